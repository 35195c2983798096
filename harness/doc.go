// Package harness schedules runs: a worker pool with per-run libtorch thread
// budgets, leases and resume on a results database, and executors (local,
// Slurm). It calls training through the Trainer interface and never imports
// models or train, so it builds without libtorch.
package harness
