package tasks

// ARC tokens (HRM build_arc_dataset.py): 0 pad, 1 end-of-sequence marker,
// colours 0–9 as 2–11; vocab 12.
const (
	arcPad          = 0
	arcEOS          = 1
	arcColourOffset = 2
	arcVocab        = 12
)

// EncodeARC returns g on a canvas×canvas token canvas at the top-left
// corner: colours as tokens 2–11, EOS along the row below and the column
// right of the grid where they fit, pad elsewhere.
func EncodeARC(g Grid, canvas int) []int32 {
	dst := make([]int32, canvas*canvas)
	encodeARC(dst, canvas, g, identityVariant(), 0, 0, arcPad)
	return dst
}

// encodeARC writes g, seen through variant v, onto dst with its top-left
// cell at (dr, dc). Pad cells get padTok: arcPad for inputs, IgnoreLabel
// for labels, so the loss skips them while EOS is still predicted. The
// caller guarantees the transformed grid fits.
func encodeARC(dst []int32, canvas int, g Grid, v ARCVariant, dr, dc int, padTok int32) {
	for i := range dst[:canvas*canvas] {
		dst[i] = padTok
	}
	oh, ow := v.Dihedral.Shape(g.H, g.W)
	for r := 0; r < oh; r++ {
		row := dst[(dr+r)*canvas+dc:]
		for c := 0; c < ow; c++ {
			sr, sc := v.Dihedral.source(r, c, g.H, g.W)
			row[c] = int32(v.Colours[g.Cells[sr*g.W+sc]]) + arcColourOffset
		}
	}
	// As in HRM, the corner diagonal to the grid stays pad.
	if dr+oh < canvas {
		for c := 0; c < ow; c++ {
			dst[(dr+oh)*canvas+dc+c] = arcEOS
		}
	}
	if dc+ow < canvas {
		for r := 0; r < oh; r++ {
			dst[(dr+r)*canvas+dc+ow] = arcEOS
		}
	}
}

// DecodeARC crops a predicted canvas to its grid: the largest-area
// rectangle at the top-left corner holding only colour tokens, found row by
// row as in HRM's arc_eval.ipynb (each row can only narrow the width). When
// the corner itself is not a colour it returns the empty 0×0 grid, as the
// papers' crop does, and ok false.
func DecodeARC(tokens []int32, canvas int) (g Grid, ok bool) {
	if len(tokens) < canvas*canvas {
		return NewGrid(0, 0), false
	}
	isColour := func(t int32) bool { return t >= arcColourOffset && t < arcVocab }
	width, bestArea, bestH, bestW := canvas, 0, 0, 0
	for r := 0; r < canvas && width > 0; r++ {
		for c := 0; c < width; c++ {
			if !isColour(tokens[r*canvas+c]) {
				width = c
				break
			}
		}
		if area := (r + 1) * width; area > bestArea {
			bestArea, bestH, bestW = area, r+1, width
		}
	}
	if bestArea == 0 {
		return NewGrid(0, 0), false
	}
	g = NewGrid(bestH, bestW)
	for r := 0; r < bestH; r++ {
		for c := 0; c < bestW; c++ {
			g.Cells[r*bestW+c] = uint8(tokens[r*canvas+c] - arcColourOffset)
		}
	}
	return g, true
}
