package experiments

import (
	"strconv"
	"strings"
)

// Device is where a run trains (train.device): "cpu", "cuda" (the first
// GPU) or "cuda:N". It is not a closed list, so it has methods instead of
// Values.
type Device string

// The devices that need no number.
const (
	DeviceCPU  Device = "cpu"
	DeviceCUDA Device = "cuda"
)

// IsCUDA reports whether d is a well-formed GPU device.
func (d Device) IsCUDA() bool {
	_, ok := d.CUDAIndex()
	return ok
}

// CUDAIndex returns the GPU number of "cuda" (0) or "cuda:N", and false
// for anything else, "cuda:-1" and "cuda:+1" included.
func (d Device) CUDAIndex() (int, bool) {
	if d == DeviceCUDA {
		return 0, true
	}
	n, ok := strings.CutPrefix(string(d), string(DeviceCUDA)+":")
	if !ok || n == "" || strings.Trim(n, "0123456789") != "" {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	return i, err == nil
}
