// Package results owns the SQLite results database: schema and migrations,
// run leases, batched metric writes, queries, shard merge and export.
package results
