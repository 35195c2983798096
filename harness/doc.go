// Package harness schedules runs on one machine: a worker pool with per-run
// libtorch thread budgets, leases and resume on a results database, crash
// quarantine, and the progress events printers show. It calls training
// through the Trainer interface and never imports models or train, so it
// builds without libtorch. The Slurm executor is the subpackage slurm.
package harness
