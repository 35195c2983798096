package train

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sugarme/gotch/ts"

	"outerloop/harness"
)

// libtorchFailure turns a panic that carries a libtorch exception (gotch's
// Must* functions panic with *ts.TorchError, see setup/gotchpatch) into the
// run's error: the first line of libtorch's message, with a hint when it is
// an out-of-memory error. The whole message and the Go stack go to
// error.txt in the run folder. Tensors the failed step still held are
// unreachable now; Run's models.ReleaseMemory runs their finalizers, which
// free them. Any other panic is a bug and is passed on with its stack.
func libtorchFailure(p any, env harness.Env) error {
	var te *ts.TorchError
	if err, ok := p.(error); !ok || !errors.As(err, &te) {
		panic(p)
	}
	msg := te.FirstLine()
	if hint := memoryHint(msg); hint != "" {
		msg += " (" + hint + ")"
	}
	if env.Dir != "" {
		path := filepath.Join(env.Dir, "error.txt")
		text := fmt.Sprintf("%s\n\nGo stack:\n%s", te.Msg, te.Stack)
		if os.WriteFile(path, []byte(text), 0o644) == nil && env.Recorder != nil {
			env.Recorder.Artifact("error", "error.txt")
		}
	}
	return fmt.Errorf("libtorch: %s", msg)
}

// memoryHint names the settings that size a run's memory when libtorch
// could not allocate.
func memoryHint(msg string) string {
	lower := strings.ToLower(msg)
	switch {
	case strings.Contains(lower, "cuda out of memory") || strings.Contains(lower, "cuda error: out of memory"):
		return "the GPU ran out of memory: lower train.batch, eval.batch or model.hidden"
	case strings.Contains(lower, "can't allocate memory") || strings.Contains(lower, "cannot allocate memory"):
		return "the machine ran out of memory: lower train.batch, eval.batch or model.hidden"
	}
	return ""
}
