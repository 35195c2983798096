package results

import (
	"context"
	"testing"
	"time"
)

// BenchmarkMetricIngest measures metric rows written per second through
// Lease.Write in batches the size the harness recorder flushes (1000 rows:
// a few metrics × a few hundred steps). Issue 3 asks for ≥ 100k rows/s.
func BenchmarkMetricIngest(b *testing.B) {
	ctx := context.Background()
	s := MustOpenStore(b)
	runs := testRuns(1)
	MustPlan(b, s, runs)
	l, err := s.Claim(ctx, "bench", ids(runs), time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	names := []string{"loss", "lr", "grad_norm", "halt_rate"}
	ms := make([]Metric, batch)
	step := 0
	for b.Loop() {
		for i := range ms {
			ms[i] = Metric{Step: step + i/len(names), Name: names[i%len(names)], Value: float64(i)}
		}
		step += batch / len(names)
		if err := l.Write(ctx, Batch{Metrics: ms, Checkpoint: NoCheckpoint}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "rows/s")
}
