package experiments

import (
	"bytes"
	"strings"
	"testing"
)

// TestOmitIDKeys: a key added after runs were recorded is left out of the
// canonical JSON at its omitid value, so those runs keep their ids; any
// other value enters the id, and stored JSON without the key decodes to
// that value.
func TestOmitIDKeys(t *testing.T) {
	base := DefaultRunSpec()
	baseJSON, err := base.CanonicalJSON()
	if err != nil {
		t.Fatal(err)
	}
	baseID, _ := base.Hash()
	tests := []struct {
		key, name string // dotted key and its JSON name
		set       func(*RunSpec)
		get       func(RunSpec) any
		omitted   any
	}{
		{"train.optimizer", `"optimizer"`, func(r *RunSpec) { r.Train.Optimizer = OptimizerAdamATan2 },
			func(r RunSpec) any { return r.Train.Optimizer }, OptimizerAdamW},
		{"eval.pool_votes", `"pool_votes"`, func(r *RunSpec) { r.Eval.PoolVotes = true },
			func(r RunSpec) any { return r.Eval.PoolVotes }, false},
		{"task.drop_leaked", `"drop_leaked"`, func(r *RunSpec) { r.Task.DropLeaked = true },
			func(r RunSpec) any { return r.Task.DropLeaked }, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if f, _ := lookup(tt.key); f == nil || !f.omits {
				t.Fatalf("%s has no omitid value", tt.key)
			}
			if bytes.Contains(baseJSON, []byte(tt.name)) {
				t.Fatalf("default run's canonical JSON holds %s: %s", tt.name, baseJSON)
			}
			back, err := DecodeRunSpec(baseJSON)
			if err != nil || tt.get(back) != tt.omitted || back.ID != baseID {
				t.Fatalf("decoded %s = %v (id %s, err %v), want %v and id %s", tt.key, tt.get(back), back.ID, err, tt.omitted, baseID)
			}
			r := DefaultRunSpec()
			tt.set(&r)
			data, err := r.CanonicalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte(tt.name)) {
				t.Fatalf("canonical JSON lacks %s at a non-default value: %s", tt.name, data)
			}
			back, err = DecodeRunSpec(data)
			if err != nil || tt.get(back) != tt.get(r) || back.ID == baseID {
				t.Fatalf("round trip: %s = %v (id %s, err %v), want %v and a new id", tt.key, tt.get(back), back.ID, err, tt.get(r))
			}
		})
	}
}

// TestARCOnlyKeys: leaked-pair handling and vote pooling exist only where
// there are ARC variants to vote.
func TestARCOnlyKeys(t *testing.T) {
	tests := []struct {
		task    TaskName
		set     func(*RunSpec)
		key     string
		invalid bool
	}{
		{TaskSudoku, func(r *RunSpec) { r.Eval.PoolVotes = true }, "eval.pool_votes", true},
		{TaskMaze, func(r *RunSpec) { r.Task.DropLeaked = true }, "task.drop_leaked", true},
		{TaskARCLite, func(r *RunSpec) { r.Eval.PoolVotes = true }, "eval.pool_votes", false},
		{TaskARCLite, func(r *RunSpec) { r.Task.DropLeaked = true }, "task.drop_leaked", true},
		{TaskARC, func(r *RunSpec) { r.Eval.PoolVotes, r.Task.DropLeaked = true, true }, "eval.pool_votes", false},
	}
	for _, tt := range tests {
		r := DefaultRunSpec()
		r.Task.Name, r.Task.Size, r.Task.Source = tt.task, 9, "data"
		tt.set(&r)
		err := r.Validate()
		got := err != nil && strings.Contains(err.Error(), tt.key)
		if got != tt.invalid {
			t.Errorf("%s with %s: error %v, want invalid = %v", tt.task, tt.key, err, tt.invalid)
		}
	}
}
