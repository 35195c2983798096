package experiments

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestEnumerationsValidate: validation accepts every value an enumeration
// lists and rejects a typo of each, suggesting the value meant. Every
// enumerated key of a run must have a row here.
func TestEnumerationsValidate(t *testing.T) {
	tests := []struct {
		key, typo, want string
	}{
		{"task.name", "sudoko", "sudoku"},
		{"model.core", "tmr", "trm"},
		{"model.mixer", "atention", "attention"},
		{"model.pos", "rop", "rope"},
		{"train.lr_schedule", "cosin", "cosine"},
		{"train.loss", "stablemx", "stablemax"},
		{"train.halting", "BCE", "bce"},
		{"train.gradient", "last_cycle", "last-cycle"},
		{"train.schedule", "samebatch", "same-batch"},
		{"train.optimizer", "adam-atan", "adam-atan2"},
		{"train.precision", "bf61", "bf16"},
		{"task.distinct", "symmetri", "symmetry"},
	}
	tested := map[string]bool{}
	for _, tt := range tests {
		tested[tt.key] = true
		t.Run(tt.key, func(t *testing.T) {
			f, msg := lookup(tt.key)
			if f == nil {
				t.Fatal(msg)
			}
			for _, v := range enumValues(f) {
				if e := findError(validateWith(f, v), tt.key, "must be one of"); e != nil {
					t.Errorf("listed value %q rejected: %v", v, e)
				}
			}
			e := findError(validateWith(f, tt.typo), tt.key, "must be one of")
			if want := fmt.Sprintf("did you mean %q", tt.want); e == nil || !strings.Contains(e.Rule, want) {
				t.Errorf("%s = %q: error %v, want one saying %s", tt.key, tt.typo, e, want)
			}
		})
	}
	for _, f := range runSchema().fields {
		if enumValues(&f) != nil && !tested[f.key] {
			t.Errorf("%s is an enumeration without a row in this test", f.key)
		}
	}
}

// enumValues lists the values of f's enumeration, or nil when f is not one.
func enumValues(f *field) []string {
	var r RunSpec
	values := reflect.ValueOf(&r).Elem().FieldByIndex(f.path).MethodByName("Values")
	if !values.IsValid() {
		return nil
	}
	list := values.Call(nil)[0]
	names := make([]string, list.Len())
	for i := range names {
		names[i] = list.Index(i).String()
	}
	return names
}

// validateWith validates the default run with f set to v.
func validateWith(f *field, v string) Errors {
	r := DefaultRunSpec()
	f.set(&r, v)
	var es Errors
	errors.As(r.Validate(), &es)
	return es
}

// TestDevice: the GPU number is read only from "cuda" and "cuda:N", and
// validation accepts exactly cpu and those.
func TestDevice(t *testing.T) {
	tests := []struct {
		device Device
		index  int
		cuda   bool
	}{
		{DeviceCPU, 0, false},
		{DeviceCUDA, 0, true},
		{"cuda:0", 0, true},
		{"cuda:3", 3, true},
		{"cuda:", 0, false},
		{"cuda:-1", 0, false},
		{"cuda:+1", 0, false},
		{"cuda:x", 0, false},
		{"cuda:99999999999999999999", 0, false},
		{"cuda3", 0, false},
		{"gpu", 0, false},
		{"", 0, false},
	}
	f, _ := lookup("train.device")
	for _, tt := range tests {
		index, ok := tt.device.CUDAIndex()
		if ok != tt.cuda || ok && index != tt.index || tt.device.IsCUDA() != tt.cuda {
			t.Errorf("%q: CUDAIndex() = %d, %v, IsCUDA() = %v; want %d, %v", tt.device, index, ok, tt.device.IsCUDA(), tt.index, tt.cuda)
		}
		rejected := findError(validateWith(f, string(tt.device)), f.key, "must be") != nil
		if want := tt.device != DeviceCPU && !tt.cuda; rejected != want {
			t.Errorf("%q: rejected = %v, want %v", tt.device, rejected, want)
		}
	}
}
