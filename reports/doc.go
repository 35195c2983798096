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
// Claims ([[expect]] entries) get one of three verdicts. Reproduced: the
// test rejects at α (one-sided). Not reproduced: only on evidence against
// the claim, the effect's 1 − 2α interval (each bound a one-sided test at α)
// lying wholly on the wrong side of zero or wholly below the minimal effect
// of interest (the claim's min_effect, else Rules.MinEffect = 0.05: the ±5
// points the shipped within claims call "the same"). Inconclusive:
// everything else, with the reason. The tests:
//
//   - increases_with: per combination of the other varying keys, Spearman's ρ
//     between the axis and the metric with a one-sided permutation test
//     (exact for small designs), plus the last − first effect with its
//     interval. Every stratum must show the rise (an intersection–union
//     test, so no multiplicity correction); one stratum with evidence
//     against makes the claim not reproduced. Along eval.loops each run is
//     its own permutation block, since one run's curve is not independent
//     points.
//   - within: two one-sided tests on A − B, paired on the seed and the other
//     varying keys when runs pair up (Welch otherwise); the interval must
//     lie inside ±delta, and not reproduced means it lies outside.
//   - greater: a one-sided t test that A − B exceeds the margin; not
//     reproduced when the interval lies below the larger of margin and the
//     minimal effect.
//
// Power. Every test states the smallest p it can reach with the runs
// present: for a permutation test the chance of the one perfect ordering
// (3 seeds against 3: 3!·3!/6! = 0.05, so one bad seed decides), for a t
// test none. A trend whose smallest attainable p is above α is inconclusive,
// "needs more seeds", before the test runs. Each test also sizes the
// observed effect: about how many seeds per level (or pairs, or runs)
// would detect it at α with 80% power, by the normal approximation for a
// comparison of means with Student's t in place of z: the smallest n with
// n ≥ k((t_{1−α,ν} + t_{0.8,ν})·σ/Δ)², k = 2 and ν = 2n − 2 with the pooled
// SD for two independent groups, k = 1 and ν = n − 1 with the SD of the
// differences for pairs. With z alone (n = k((z_{1−α} + z_{0.8})·σ/Δ)²) it
// would ask for 3 seeds where 5 are needed. A trend along a config key is
// sized by its first and last level as two groups (the permutation test
// ignores the pairing), a trend along inference loops by the last − first
// loop count paired by run, a greater claim by Δ = A − B − margin, a within
// claim by Δ = delta − |A − B|. The answer is never below Rules.MinSeeds or
// what the permutation design needs to reach α.
//
// Runs that did not learn. On metrics an untrained model scores about 0 on
// (exact accuracy, valid or optimal solutions, pass@k), a run at or below
// Rules.Untrained (0.02) whose siblings (the other seeds of its
// configuration, at least two) have a median at or above Rules.Learned
// (0.10) is flagged as an outlier. It is not excluded: the verdict counts
// it, and WithoutOutliers is the same check with it left out, shown beside.
// Token accuracy (chance depends on the task) and the halting metrics are
// never flagged.
//
// Intervals of proportions. Every claim metric is a proportion, and what is
// summarised is the mean over seeds of per-seed proportions: the seeds are
// the units, so the spread across seeds, not the binomial count of puzzles,
// is the uncertainty. The interval is Wilson's score interval with the
// effective sample size n = p̄(1−p̄)/SE² that reproduces the observed
// standard error, and Student's t quantile at seeds − 1 df in place of z
// (Korn and Graubard's interval for proportions from clustered samples).
// Far from 0 and 1 it is close to the t interval; near a bound it leans
// away from it and never crosses it, and it always contains the mean. A
// clipped t interval would keep a symmetric shape the data cannot have, and
// a percentile bootstrap over three seeds has ten distinct resamples and
// covers too little. Effects
// (differences of two such means) get the same interval on [−1, 1], with
// the paired or Welch standard error and degrees of freedom; p-values stay
// those of the t statistics. Figures of proportions use these intervals, so
// their error bars and axes stay inside [0, 1]. Other metrics (loss) keep
// the t interval.
//
// Failed, pending and diverged runs are listed with every claim and figure
// they are missing from; nothing is dropped silently.
//
// Figure tests compare SVG output with testdata/*.svg.golden; run
// `go test ./reports -update` to rewrite them after an intended change.
// TestBrowser needs Debian's chromium (reports/testdata/install-chromium.sh)
// and is skipped by -short; -screenshot=PATH keeps its screenshot.
package reports
