// Package slurm runs a grid on a Slurm cluster: Executor submits one job
// array over the runs left to do (a run list and a batch script beside the
// database), each array Task trains one run with a harness.Scheduler into a
// shard database of its own, and Collect merges the shards of ended tasks
// into the main database. Tasks checkpoint and requeue themselves on
// Slurm's warning signal. docs/cluster.md is the user's guide.
package slurm
