// Package reports turns a results database and a grid into statistics across
// seeds, claim verdicts, gonum/plot figures and a self-contained HTML page.
//
// Everything is a function of Data, the package's own input model: Load and
// LoadGrid fill it from a results.Store, tests build it by hand. It holds
// each run's typed configuration (experiments.RunSpec) and the grid's claims
// as experiments parsed and validated them, so levels, selectors and the
// loop a claim reads come from typed values and text is made only for
// display. Build checks every claim and draws every figure; a Report then
// writes the figures (WriteFigures: SVG and PNG) and the page (WriteHTML).
//
// Claims ([[expect]] entries) get one of three verdicts:
//
//   - increases_with: per combination of the other varying keys, Spearman's ρ
//     between the axis and the metric with a one-sided permutation test
//     (exact for small designs), plus the last − first effect with its 95%
//     interval. Every stratum must show the rise (an intersection–union test,
//     so no multiplicity correction). Along eval.loops each run is its own
//     permutation block, since one run's curve is not independent points.
//   - within: two one-sided tests on A − B, paired on the seed and the other
//     varying keys when runs pair up (Welch otherwise); the 90% interval must
//     lie inside ±delta.
//   - greater: a one-sided t test that A − B exceeds the margin.
//
// Inconclusive means the data cannot decide — fewer than Rules.MinSeeds
// usable runs at a level, a design whose permutation test cannot reach α, an
// interval too wide to show equivalence — and says which. Failed, pending and
// diverged runs are listed with every claim and figure they are missing
// from; nothing is dropped silently.
//
// Figure tests compare SVG output with testdata/*.svg.golden; run
// `go test ./reports -update` to rewrite them after an intended change.
// TestBrowser needs Debian's chromium (reports/testdata/install-chromium.sh)
// and is skipped by -short; -screenshot=PATH keeps its screenshot.
package reports
