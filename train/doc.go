// Package train runs deep supervision on a core: segments, halting, losses,
// optimisers, EMA, checkpoints and the evaluation that records accuracy after
// every inference loop. It reports to the run's harness.Recorder and never prints.
package train
