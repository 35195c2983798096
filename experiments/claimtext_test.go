package experiments

import (
	"slices"
	"testing"
)

func TestClaimString(t *testing.T) {
	tests := []struct {
		c    Claim
		want string
	}{
		{Claim{Metric: "exact_accuracy", IncreasesWith: "train.loops", Where: "model.core=hrm"},
			"exact_accuracy increases with train.loops at final eval where model.core=hrm"},
		{Claim{Metric: "exact_accuracy", IncreasesWith: "eval.loops"}, "exact_accuracy increases with eval.loops"},
		{Claim{Metric: "exact_accuracy", At: 4, Within: &Within{A: "model.core=hrm", B: "model.core=trm", Delta: 0.05}},
			"exact_accuracy of model.core=hrm is within ±0.05 of model.core=trm at eval.loops=4"},
		{Claim{Metric: "pass@2_strict", AtTrainLoops: true, Greater: &Greater{A: "train.loops=8", B: "train.loops=1", Margin: 0.1}},
			"pass@2_strict of train.loops=8 exceeds train.loops=1 by more than 0.1 at eval.loops=train.loops"},
		{Claim{Metric: "exact_accuracy"}, "exact_accuracy (no comparison set) at final eval"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Fatalf("String()=%q, want %q", got, tt.want)
		}
	}
}

func TestSelectorKeys(t *testing.T) {
	tests := []struct {
		sel  string
		want []string
	}{
		{"", []string{}},
		{"model.core=hrm", []string{"model.core"}},
		{"train.loops=4, model.core=trm, seed=2", []string{"train.loops", "model.core", "seed"}},
	}
	for _, tt := range tests {
		sel, err := ParseSelector(tt.sel)
		if err != nil {
			t.Fatal(err)
		}
		if got := sel.Keys(); !slices.Equal(got, tt.want) {
			t.Fatalf("ParseSelector(%q).Keys()=%v, want %v", tt.sel, got, tt.want)
		}
	}
}
