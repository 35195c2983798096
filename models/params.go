package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// Params is the ordered, named set of tensors a model owns. Trainable
// parameters get gradients and the optimiser; buffers (HRM's fixed initial
// states, RoPE tables) do not. We keep our own registry instead of gotch's
// VarStore: the optimiser, EMA and checkpoints are ours, and VarStore.Load
// sleeps a second per call (docs/dependencies.md, gotch).
type Params struct {
	device  gotch.Device
	rng     *rand.Rand // initial values; per model, see NewParams
	names   []string
	tensors []*ts.Tensor
	train   []bool
	index   map[string]int
}

// NewParams returns an empty registry for tensors on device whose random
// initial values come from seed. The values are drawn in Go, not from
// libtorch's generator: that one is process-wide, and runs built at the same
// moment on two workers would interleave their draws and stop being
// reproducible from their seeds.
func NewParams(device gotch.Device, seed int64) *Params {
	return &Params{device: device, rng: rand.New(rand.NewPCG(uint64(seed), 0x696e6974)), index: map[string]int{}}
}

// Device is where the tensors live.
func (p *Params) Device() gotch.Device { return p.device }

// param registers t as a trainable parameter, taking ownership of it.
func (p *Params) param(name string, t *ts.Tensor) *ts.Tensor {
	t.MustRequiresGrad_(true)
	return p.add(name, t, true)
}

// buffer registers t as a fixed tensor, taking ownership of it.
func (p *Params) buffer(name string, t *ts.Tensor) *ts.Tensor {
	return p.add(name, t, false)
}

func (p *Params) add(name string, t *ts.Tensor, trainable bool) *ts.Tensor {
	if _, dup := p.index[name]; dup {
		panic(fmt.Sprintf("models: parameter %q registered twice", name))
	}
	p.index[name] = len(p.names)
	p.names = append(p.names, name)
	p.tensors = append(p.tensors, t)
	p.train = append(p.train, trainable)
	return t
}

// Trainable returns the trainable parameters in registration order.
func (p *Params) Trainable() []*ts.Tensor {
	var out []*ts.Tensor
	for i, t := range p.tensors {
		if p.train[i] {
			out = append(out, t)
		}
	}
	return out
}

// TrainableNames returns the names of Trainable, in the same order.
func (p *Params) TrainableNames() []string {
	var out []string
	for i, n := range p.names {
		if p.train[i] {
			out = append(out, n)
		}
	}
	return out
}

// Named returns every tensor (parameters and buffers) by name, for
// checkpoints.
func (p *Params) Named() map[string]*ts.Tensor {
	m := make(map[string]*ts.Tensor, len(p.names))
	for i, n := range p.names {
		m[n] = p.tensors[i]
	}
	return m
}

// Names returns all names, sorted.
func (p *Params) Names() []string {
	out := append([]string(nil), p.names...)
	sort.Strings(out)
	return out
}

// Count is the number of trainable scalars — what the papers report.
func (p *Params) Count() int64 {
	var n int64
	for i, t := range p.tensors {
		if p.train[i] {
			n += numel(t.MustSize())
		}
	}
	return n
}

// Drop frees every tensor.
func (p *Params) Drop() {
	for _, t := range p.tensors {
		t.MustDrop()
	}
	p.tensors, p.names, p.train, p.index = nil, nil, nil, map[string]int{}
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// truncNormal draws a JAX-style truncated normal in [-2σ', 2σ'] whose
// standard deviation is std (HRM/TRM models/common.py trunc_normal_init_;
// PyTorch's trunc_normal_ would give a smaller spread), by inverting the CDF
// of a uniform draw from p's generator.
func (p *Params) truncNormal(shape []int64, std float64) *ts.Tensor {
	if std == 0 {
		return ts.MustZeros(shape, gotch.Float, p.device)
	}
	const lower, upper = -2.0, 2.0
	a, b := math.Erf(lower/math.Sqrt2), math.Erf(upper/math.Sqrt2)
	z := (b - a) / 2
	c := 1 / math.Sqrt(2*math.Pi)
	pdfU, pdfL := c*math.Exp(-0.5*lower*lower), c*math.Exp(-0.5*upper*upper)
	compStd := std / math.Sqrt(1-(upper*pdfU-lower*pdfL)/z-math.Pow((pdfU-pdfL)/z, 2))
	v := make([]float32, numel(shape))
	for i := range v {
		x := math.Sqrt2 * compStd * math.Erfinv(a+(b-a)*p.rng.Float64())
		v[i] = float32(max(lower*compStd, min(upper*compStd, x)))
	}
	return p.fromHost(v, shape)
}

// fromHost copies host values of the given shape to a tensor on p's device.
func (p *Params) fromHost(v []float32, shape []int64) *ts.Tensor {
	return ts.MustOfSlice(v).MustView(shape, true).MustTo(p.device, true)
}
