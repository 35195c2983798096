package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// A run's identity is its resolved configuration, not where it was written:
// the sha256 of canonical JSON (keys sorted, no whitespace) of everything but
// ID, Grid and the thread budget. Two grids that resolve to the same
// configuration name the same run, so results are shared and nothing is
// trained twice. A key with an omitid tag is left out at that value, so
// adding it kept the ids of the runs recorded before (config.go).

// CanonicalJSON renders the run as JSON with sorted keys and no whitespace;
// empty lists are written as [] and -0 as 0, so equal configurations give
// equal bytes. It fails only for values JSON cannot hold (NaN, ±Inf), which
// Validate rejects.
func (r RunSpec) CanonicalJSON() ([]byte, error) {
	r = r.normalized()
	for _, p := range []*[]string{&r.Task.Families, &r.Task.Subsets} {
		if *p == nil {
			*p = []string{}
		}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode run: %w", err)
	}
	// A round trip through a generic value sorts every object's keys;
	// UseNumber keeps each number's text exactly as encoded.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonicalise run: %w", err)
	}
	dropOmitted(v, &r)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("canonicalise run: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// dropOmitted deletes from v, r's JSON as a generic value, every key whose
// value is its omitid value.
func dropOmitted(v map[string]any, r *RunSpec) {
	s := runSchema()
	for i := range s.fields {
		f := &s.fields[i]
		if section, ok := v[f.json[0]].(map[string]any); ok && f.omits && reflect.DeepEqual(f.get(r), f.omitAt) {
			delete(section, f.json[1])
		}
	}
}

// Hash returns the run's id: the hex sha256 of its canonical JSON.
func (r RunSpec) Hash() (string, error) {
	data, err := r.CanonicalJSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// ShortID returns the first 12 hex digits of a run id, for display.
func ShortID(id string) string {
	if len(id) <= 12 {
		return id
	}
	return id[:12]
}

// DecodeRunSpec reads a run back from its JSON (as stored with the run's
// results), rejecting unknown fields, and sets its ID. A key canonical JSON
// leaves out takes its omitid value.
func DecodeRunSpec(data []byte) (RunSpec, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r RunSpec
	s := runSchema()
	for i := range s.fields {
		if f := &s.fields[i]; f.omits {
			f.set(&r, f.omitAt)
		}
	}
	if err := dec.Decode(&r); err != nil {
		return RunSpec{}, fmt.Errorf("decode run: %w", err)
	}
	r = r.normalized()
	id, err := r.Hash()
	if err != nil {
		return RunSpec{}, fmt.Errorf("decode run: %w", err)
	}
	r.ID = id
	return r, nil
}

// normalized returns r with empty lists as nil and float -0 as 0, the forms
// Expand produces, so equal runs compare equal field by field.
func (r RunSpec) normalized() RunSpec {
	s := runSchema()
	for i := range s.fields {
		f := &s.fields[i]
		switch v := f.get(&r); f.kind {
		case kindFloat:
			if v.(float64) == 0 {
				f.set(&r, 0.0)
			}
		case kindStrings:
			f.set(&r, v) // get returns a fresh copy, nil when empty
		}
	}
	return r
}

// Get returns the value of a dotted key ("train.loops", "seed") as int,
// int64, float64, string, bool or []string.
func (r RunSpec) Get(key string) (any, error) {
	f, msg := lookup(key)
	if f == nil {
		return nil, fmt.Errorf("get %s: %s", key, msg)
	}
	return f.get(&r), nil
}

// Varying returns the dotted keys whose values differ between the runs,
// sorted. "seed" is among them when runs differ in seed; the thread budget
// is not, since it is not part of a run's identity.
func Varying(runs []RunSpec) []string {
	var keys []string
	if len(runs) < 2 {
		return keys
	}
	s := runSchema()
	for i := range s.fields {
		f := &s.fields[i]
		if !f.identity {
			continue
		}
		first := f.get(&runs[0])
		for j := 1; j < len(runs); j++ {
			if !reflect.DeepEqual(first, f.get(&runs[j])) {
				keys = append(keys, f.key)
				break
			}
		}
	}
	slices.Sort(keys)
	return keys
}
