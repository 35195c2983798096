package experiments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestSchemaCoversEveryField(t *testing.T) {
	s := runSchema()
	if len(s.unsupported) > 0 {
		t.Fatalf("config fields %v have a Go type the grid schema cannot hold; add a kind for it", s.unsupported)
	}
	keys := Keys()
	for _, want := range []string{"seed", "task.name", "model.core", "train.loops", "train.threads", "eval.loops"} {
		if !slices.Contains(keys, want) {
			t.Fatalf("Keys() = %v, missing %q", keys, want)
		}
	}
}

func TestDefaultsAreValid(t *testing.T) {
	for name, err := range map[string]error{
		"task":  DefaultTaskConfig().Validate(),
		"model": DefaultModelConfig().Validate(),
		"train": DefaultTrainConfig().Validate(),
		"eval":  DefaultEvalConfig().Validate(),
		"run":   DefaultRunSpec().Validate(),
	} {
		if err != nil {
			t.Fatalf("default %s config: %v", name, err)
		}
	}
}

func TestValidateCollectsFieldErrors(t *testing.T) {
	c := DefaultTrainConfig()
	c.Loops, c.Halting, c.Beta1 = 0, "maybe", 2
	err := c.Validate()
	es := fieldErrors(t, err)
	want := []string{
		`train.beta1 = 2: must be in [0, 1)`,
		`train.halting = "maybe": must be one of "q" | "bce" | "off"`,
		`train.loops = 0: must be at least 1 (a loop count: supervision segments N_sup)`,
	}
	if got := strings.Split(es.Error(), "\n"); !slices.Equal(got, want) {
		t.Fatalf("Validate() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestCanonicalJSON(t *testing.T) {
	r := DefaultRunSpec()
	data, err := r.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsAny(data, " \n\t") {
		t.Fatalf("canonical JSON has whitespace: %s", data)
	}
	if !bytes.Contains(data, []byte(`"families":[]`)) {
		t.Fatalf("canonical JSON writes an empty list other than []: %s", data)
	}
	if err := keysSorted(json.NewDecoder(bytes.NewReader(data))); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
	if keysSorted(json.NewDecoder(strings.NewReader(`{"a":{"d":1,"c":2}}`))) == nil {
		t.Fatalf("keysSorted accepts unsorted nested keys")
	}
	for _, hidden := range []string{`"threads"`, `"ID"`, `"id"`, `"grid"`} {
		if bytes.Contains(data, []byte(hidden)) {
			t.Fatalf("canonical JSON contains %s: %s", hidden, data)
		}
	}
}

// TestEveryIdentityFieldChangesTheID mutates each key in turn: a key left out
// of the hash would let two different runs share results.
func TestEveryIdentityFieldChangesTheID(t *testing.T) {
	base := DefaultRunSpec()
	baseID, err := base.Hash()
	if err != nil {
		t.Fatal(err)
	}
	s := runSchema()
	for i := range s.fields {
		f := &s.fields[i]
		r := base
		switch v := f.get(&r); f.kind {
		case kindInt:
			f.set(&r, v.(int)+1)
		case kindInt64:
			f.set(&r, v.(int64)+1)
		case kindFloat:
			f.set(&r, v.(float64)+0.5)
		case kindString:
			f.set(&r, v.(string)+"x")
		case kindBool:
			f.set(&r, !v.(bool))
		case kindStrings:
			f.set(&r, append(v.([]string), "x"))
		}
		id, err := r.Hash()
		if err != nil {
			t.Fatal(err)
		}
		if changed := id != baseID; changed != f.identity {
			t.Fatalf("changing %s: id changed = %v, want %v", f.key, changed, f.identity)
		}
	}
}

func TestIDNormalisesEquivalentValues(t *testing.T) {
	a := DefaultRunSpec()
	b := DefaultRunSpec()
	b.Task.Families = []string{}
	b.Train.GradClip = math.Copysign(0, -1)
	a.Train.GradClip = 0
	ida, _ := a.Hash()
	idb, _ := b.Hash()
	if ida != idb {
		t.Fatalf("nil vs empty list and 0 vs -0 give ids %s and %s", ida, idb)
	}
	r := DefaultRunSpec()
	r.Train.LR = math.NaN()
	if _, err := r.Hash(); err == nil {
		t.Fatalf("Hash of a NaN learning rate succeeded, want an error")
	}
}

func TestDecodeRunSpecRoundTrip(t *testing.T) {
	runs := MustExpand(t, "name = \"t\"\nseeds = [4]\n[task]\nname = \"arc-lite\"\nsize = 8\nfamilies = [\"gravity\"]\n")
	data, err := runs[0].CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeRunSpec(data)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != runs[0].ID || r.Seed != 4 || !slices.Equal(r.Task.Families, []string{"gravity"}) {
		t.Fatalf("DecodeRunSpec = %+v, want the run back with id %s", r, runs[0].ID)
	}
	if _, err := DecodeRunSpec([]byte(`{"seed":1,"bogus":2}`)); err == nil {
		t.Fatalf("DecodeRunSpec accepted an unknown field")
	}
}

func TestShortID(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"0123456789abcdef", "0123456789ab"},
		{"abc", "abc"},
	} {
		if got := ShortID(tt.in); got != tt.want {
			t.Fatalf("ShortID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestGet(t *testing.T) {
	r := DefaultRunSpec()
	r.Seed = 9
	for _, tt := range []struct {
		key  string
		want any
	}{
		{"seed", int64(9)},
		{"train.loops", 4},
		{"train.lr", 3e-4},
		{"model.core", "trm"},
		{"train.ema", false},
		{"task.families", []string(nil)},
	} {
		got, err := r.Get(tt.key)
		if err != nil || !equalValues(got, tt.want) {
			t.Fatalf("Get(%q) = %#v, %v; want %#v", tt.key, got, err, tt.want)
		}
	}
	if _, err := r.Get("train.lopps"); err == nil || !strings.Contains(err.Error(), `did you mean "train.loops"`) {
		t.Fatalf("Get(unknown) = %v, want an error with a suggestion", err)
	}
}

func TestVarying(t *testing.T) {
	runs := MustExpand(t, "name = \"t\"\nseeds = [1, 2]\n[sweep]\n\"train.lr\" = [1e-4, 3e-4]\n", "train.threads=2")
	if got, want := Varying(runs), []string{"seed", "train.lr"}; !slices.Equal(got, want) {
		t.Fatalf("Varying = %v, want %v", got, want)
	}
	if got := Varying(runs[:1]); len(got) != 0 {
		t.Fatalf("Varying(one run) = %v, want none", got)
	}
}

func TestSelectors(t *testing.T) {
	r := DefaultRunSpec()
	r.Seed = 3
	tests := []struct {
		sel   string
		match bool
		err   string
	}{
		{"", true, ""},
		{"model.core=trm", true, ""},
		{" model.core = trm ", true, ""},
		{`model.core="trm"`, true, ""},
		{"model.core=hrm", false, ""},
		{"model.core=trm,train.loops=4", true, ""},
		{"model.core=trm,train.loops=2", false, ""},
		{"model.expansion=4", true, ""},
		{"train.lr=3e-4", true, ""},
		{"train.ema=false", true, ""},
		{"seed=3", true, ""},
		{"model.core", false, "want key=value"},
		{"model.kore=trm", false, "unknown key"},
		{"train.loops=four", false, "must be an integer"},
		{"task.families=a", false, "list keys cannot be selected"},
		{"train.loops=1,train.loops=2", false, "names train.loops twice"},
	}
	for _, tt := range tests {
		got, err := r.Matches(tt.sel)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Matches(%q) error %v, want %q", tt.sel, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.match {
			t.Fatalf("Matches(%q) = %v, %v; want %v", tt.sel, got, err, tt.match)
		}
	}
	sel, err := ParseSelector("train.loops=4, model.core=trm")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sel.String(), "model.core=trm,train.loops=4"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

// keysSorted walks one JSON value and fails on an object whose keys are
// out of order.
func keysSorted(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		prev := ""
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return err
			}
			k := key.(string)
			if k < prev {
				return fmt.Errorf("key %q after %q", k, prev)
			}
			prev = k
			if err := keysSorted(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for dec.More() {
			if err := keysSorted(dec); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}
