package experiments

import "testing"

// claimGrid is a grid sweeping train.loops and model.core with one claim
// whose body is claim.
func claimGrid(claim string) string {
	return "name = \"t\"\n[sweep]\n\"train.loops\" = [1, 2]\n\"model.core\" = [\"trm\", \"transformer\"]\n[[expect]]\nmetric = \"exact_accuracy\"\n" + claim
}

func TestClaimMinEffect(t *testing.T) {
	tests := []struct {
		claim string
		want  float64
	}{
		{"increases_with = \"train.loops\"\nmin_effect = 0.1\n", 0.1},
		{"greater = {a = \"model.core=trm\", b = \"model.core=transformer\"}\nmin_effect = 1\n", 1},
		{"increases_with = \"train.loops\"\n", 0},
	}
	for _, tt := range tests {
		g := MustLoadGrid(t, claimGrid(tt.claim))
		if got := g.Expect[0].MinEffect; got != tt.want {
			t.Fatalf("%q: MinEffect=%v, want %v", tt.claim, got, tt.want)
		}
	}
}

func TestClaimMinEffectRejects(t *testing.T) {
	tests := []struct {
		name, claim, key, rule string
	}{
		{"zero", "increases_with = \"train.loops\"\nmin_effect = 0\n", "expect[0].min_effect", "greater than 0 and at most 1"},
		{"above one", "increases_with = \"train.loops\"\nmin_effect = 5\n", "expect[0].min_effect", "greater than 0 and at most 1"},
		{"nan", "increases_with = \"train.loops\"\nmin_effect = nan\n", "expect[0].min_effect", "greater than 0 and at most 1"},
		{"a string", "increases_with = \"train.loops\"\nmin_effect = \"5%\"\n", "expect[0].min_effect", "must be a number, not a string"},
		{"misspelt", "increases_with = \"train.loops\"\nmin_efect = 0.1\n", "expect[0].min_efect", `unknown claim field (did you mean "min_effect"?)`},
		{"camel case", "increases_with = \"train.loops\"\nminEffect = 0.1\n", "expect[0].minEffect", `did you mean "min_effect"?`},
		{"on within", "within = {a = \"model.core=trm\", b = \"model.core=transformer\", delta = 0.05}\nmin_effect = 0.1\n", "expect[0].min_effect", "does not apply to within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeGrid(t, t.TempDir(), "grid.toml", claimGrid(tt.claim)), nil)
			if err == nil {
				t.Fatalf("Load succeeded, want an error for %s", tt.key)
			}
			if e := findError(fieldErrors(t, err), tt.key, tt.rule); e == nil || e.Line == 0 {
				t.Fatalf("errors:\n%v\nwant one for %q on its line containing %q", err, tt.key, tt.rule)
			}
		})
	}
}
