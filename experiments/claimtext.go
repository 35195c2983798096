package experiments

import (
	"fmt"
	"strings"
)

// String renders the claim as a sentence, the way reports and the command
// line show it: "exact_accuracy increases with train.loops at final eval
// where model.core=hrm".
func (c Claim) String() string {
	var b strings.Builder
	switch {
	case c.IncreasesWith != "":
		fmt.Fprintf(&b, "%s increases with %s", c.Metric, c.IncreasesWith)
	case c.Within != nil:
		fmt.Fprintf(&b, "%s of %s is within ±%g of %s", c.Metric, c.Within.A, c.Within.Delta, c.Within.B)
	case c.Greater != nil:
		fmt.Fprintf(&b, "%s of %s exceeds %s by more than %g", c.Metric, c.Greater.A, c.Greater.B, c.Greater.Margin)
	default:
		fmt.Fprintf(&b, "%s (no comparison set)", c.Metric)
	}
	// An eval.loops trend reads the whole curve, not one point of it.
	if c.IncreasesWith != "eval.loops" {
		fmt.Fprintf(&b, " at %s", c.AtText())
	}
	if c.Where != "" {
		fmt.Fprintf(&b, " where %s", c.Where)
	}
	return b.String()
}

// AtText names the point AtLoop reads each run at: "final eval",
// "eval.loops=N" or "eval.loops=train.loops".
func (c Claim) AtText() string {
	switch {
	case c.AtTrainLoops:
		return "eval.loops=train.loops"
	case c.At > 0:
		return fmt.Sprintf("eval.loops=%d", c.At)
	}
	return "final eval"
}

// Keys returns the keys the selector constrains, in the order written, so a
// report can leave them out of the keys it groups or pairs runs by.
func (s Selector) Keys() []string {
	keys := make([]string, len(s.terms))
	for i, t := range s.terms {
		keys[i] = t.f.key
	}
	return keys
}
