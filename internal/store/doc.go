// Package store owns the fleet server's persistent state: enrolled hosts,
// detections, rule bundles, sweeps with their per-host state, settings and
// the audit trail. It runs on an embedded SQLite database (modernc.org/sqlite,
// WAL) by default and on PostgreSQL (pgx) with identical behaviour; the
// schema is versioned migrations per dialect and the queries are named SQL
// shared by both, all embedded from .sql files.
//
// Times are stored as Unix milliseconds so that both dialects order and
// compare them the same way; the zero time.Time stands for "never".
package store
