package experiments

import (
	"sort"
	"strconv"
	"strings"
)

// BurntSushi/toml reports no position per key (docs/dependencies.md), so error
// messages find their line with this small scanner. It walks an already
// parsed document and records the line of every key, table header and array
// element under a path such as "train.loops", "sweep.zip[1].model.core",
// "expect[0].within.a" or "seeds[2]". Dotted and quoted keys are joined with
// dots alike, which is how Load names them too. On malformed input it stops
// quietly: it only ever supplies line numbers.

// keyLines maps each key path in src to the 1-based line it is first written on.
type keyLines map[string]int

func scanKeyLines(src string) keyLines {
	s := &lineScanner{src: src, lines: keyLines{}, arrays: map[string]int{}}
	for i, c := range src {
		if c == '\n' {
			s.newlines = append(s.newlines, i)
		}
	}
	s.document()
	return s.lines
}

// find returns the line of path, or of its nearest written ancestor (a
// value inside an inline table is on its key's line), or 0.
func (kl keyLines) find(path string) int {
	for path != "" {
		if line, ok := kl[path]; ok {
			return line
		}
		cut := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
		if cut < 0 {
			return 0
		}
		path = path[:cut]
	}
	return 0
}

type lineScanner struct {
	src      string
	i        int
	newlines []int          // byte offsets of '\n', for offset → line
	lines    keyLines       // path → first line
	arrays   map[string]int // array-of-tables path → elements seen so far
}

func (s *lineScanner) line(offset int) int {
	return 1 + sort.SearchInts(s.newlines, offset)
}

func (s *lineScanner) record(path string, offset int) {
	if _, ok := s.lines[path]; !ok {
		s.lines[path] = s.line(offset)
	}
}

func (s *lineScanner) peek() byte {
	if s.i < len(s.src) {
		return s.src[s.i]
	}
	return 0
}

// skipSpace skips blanks, and newlines and comments too when lines is set.
func (s *lineScanner) skipSpace(lines bool) {
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == ' ' || c == '\t':
			s.i++
		case lines && (c == '\n' || c == '\r'):
			s.i++
		case lines && c == '#':
			for s.i < len(s.src) && s.src[s.i] != '\n' {
				s.i++
			}
		default:
			return
		}
	}
}

func (s *lineScanner) document() {
	current := ""
	for s.i < len(s.src) {
		start := s.i
		s.skipSpace(true)
		if s.i >= len(s.src) {
			return
		}
		if s.peek() == '[' {
			current = s.header()
		} else {
			s.keyValue(current)
		}
		if s.i == start {
			s.i++ // malformed input: always make progress
		}
	}
}

// header reads [a.b] or [[a.b]] and returns the path the following keys
// belong to.
func (s *lineScanner) header() string {
	start := s.i
	s.i++
	array := s.peek() == '['
	if array {
		s.i++
	}
	segs := s.key()
	path := ""
	for n, seg := range segs {
		path = join(path, seg)
		if n == len(segs)-1 && array {
			count := s.arrays[path]
			s.arrays[path] = count + 1
			s.record(path, start)
			path += "[" + strconv.Itoa(count) + "]"
		} else if count, ok := s.arrays[path]; ok {
			path += "[" + strconv.Itoa(count-1) + "]"
		}
	}
	s.record(path, start)
	for s.i < len(s.src) && s.src[s.i] != '\n' && s.src[s.i] != '#' {
		s.i++
	}
	return path
}

// key reads a possibly dotted, possibly quoted key.
func (s *lineScanner) key() []string {
	var segs []string
	for {
		s.skipSpace(false)
		seg, ok := s.keySegment()
		if !ok {
			return segs
		}
		segs = append(segs, seg)
		s.skipSpace(false)
		if s.peek() != '.' {
			return segs
		}
		s.i++
	}
}

func (s *lineScanner) keySegment() (string, bool) {
	switch c := s.peek(); {
	case c == '"':
		raw := s.skipString()
		if v, err := strconv.Unquote(raw); err == nil {
			return v, true
		}
		return strings.Trim(raw, `"`), true
	case c == '\'':
		return strings.Trim(s.skipString(), "'"), true
	case isBareKeyChar(c):
		start := s.i
		for s.i < len(s.src) && isBareKeyChar(s.src[s.i]) {
			s.i++
		}
		return s.src[start:s.i], true
	}
	return "", false
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func join(prefix, seg string) string {
	if prefix == "" {
		return seg
	}
	return prefix + "." + seg
}

// keyValue reads `key = value` under prefix and records the key's line.
func (s *lineScanner) keyValue(prefix string) {
	start := s.i
	segs := s.key()
	if len(segs) == 0 {
		return
	}
	path := prefix
	for _, seg := range segs {
		path = join(path, seg)
		s.record(path, start)
	}
	s.skipSpace(false)
	if s.peek() != '=' {
		return
	}
	s.i++
	s.skipSpace(false)
	s.value(path)
}

func (s *lineScanner) value(path string) {
	switch s.peek() {
	case '"', '\'':
		s.skipString()
	case '[':
		s.array(path)
	case '{':
		s.inlineTable(path)
	default:
		for s.i < len(s.src) && !strings.ContainsRune(" \t\r\n,]}#", rune(s.src[s.i])) {
			s.i++
		}
	}
}

func (s *lineScanner) array(path string) {
	s.i++
	for n := 0; s.i < len(s.src); n++ {
		s.skipSpace(true)
		if s.peek() == ']' {
			s.i++
			return
		}
		start := s.i
		elem := path + "[" + strconv.Itoa(n) + "]"
		s.record(elem, start)
		s.value(elem)
		s.skipSpace(true)
		if s.peek() == ',' {
			s.i++
		} else if s.i == start {
			return
		}
	}
}

func (s *lineScanner) inlineTable(path string) {
	s.i++
	for s.i < len(s.src) {
		s.skipSpace(true)
		if s.peek() == '}' {
			s.i++
			return
		}
		start := s.i
		s.keyValue(path)
		s.skipSpace(true)
		if s.peek() == ',' {
			s.i++
		} else if s.i == start {
			return
		}
	}
}

// skipString moves past a basic, literal or multi-line string and returns
// its source text including the quotes.
func (s *lineScanner) skipString() string {
	start := s.i
	q := s.src[s.i]
	if strings.HasPrefix(s.src[s.i:], strings.Repeat(string(q), 3)) {
		end := strings.Index(s.src[s.i+3:], strings.Repeat(string(q), 3))
		if end < 0 {
			s.i = len(s.src)
			return s.src[start:]
		}
		s.i += 3 + end + 3
		for s.i < len(s.src) && s.src[s.i] == q { // up to two quotes may end the content
			s.i++
		}
		return s.src[start:s.i]
	}
	s.i++
	for s.i < len(s.src) && s.src[s.i] != q && s.src[s.i] != '\n' {
		if q == '"' && s.src[s.i] == '\\' {
			s.i++
		}
		s.i++
	}
	if s.i < len(s.src) && s.src[s.i] == q {
		s.i++
	}
	return s.src[start:min(s.i, len(s.src))]
}
