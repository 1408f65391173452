// Package store owns the fleet server's persistent state: enrolled hosts,
// detections, rule bundles, sweeps with their per-host state, settings and
// the audit trail, and the tables of the capabilities built on the server.
// It runs on an embedded SQLite database (modernc.org/sqlite, WAL) by
// default and on PostgreSQL (pgx) with identical behaviour.
//
// Times are stored as Unix milliseconds so that both dialects order and
// compare them the same way; the zero time.Time stands for "never".
//
// # Transactions and the audit trail
//
// Every state change and the audit entry recording it commit together:
//
//	err := st.InTx(ctx, func(tx *store.Tx) error {
//		if err := tx.SetMonitoring(ctx, id, level); err != nil {
//			return err
//		}
//		return tx.AppendAudit(ctx, store.AuditEntry{At: now, Actor: "alice", Role: "responder",
//			Action: "monitoring", Target: id, Reason: reason, RequestID: rid})
//	})
//
// Each entry becomes the next leaf of the audit log's Merkle tree
// (internal/audit): its index and the hash of the leaf before it are read
// and written in the same transaction, serialised by SQLite's one writer or
// a PostgreSQL advisory lock, so the log has no gaps and no forks.
//
// Capabilities that react to changes register hooks that run inside the
// transaction of what triggers them: OnAudit after every audit append,
// OnDetections with the detections a batch stored for the first time (ids
// set). A hook's error rolls the whole transaction back.
//
// Inside InTx use only the Tx. On SQLite the store has one writer
// connection and the transaction holds it, so a write through the Store
// inside InTx waits for itself forever.
//
// # Layout: how a capability adds its tables and queries
//
// A capability (say internal/incident) adds three files here and edits none:
//
//   - queries/incident.sql: its named queries, each after a
//     "-- name: NAME" line, in the $N placeholder syntax both dialects
//     share. Prefix the names with the capability ("incident-insert",
//     "incident-by-id"): a name defined twice, in any two files, fails Open
//     with both places named.
//   - migrations/sqlite/YYYYMMDDHHMM_incident.sql and
//     migrations/postgres/YYYYMMDDHHMM_incident.sql: its schema, one file
//     per dialect with the same name, numbered with the UTC time it was
//     written. Two branches adding migrations at once do not collide; a
//     migration older than one already applied (a branch merged late) is
//     still applied. A name present for one dialect only, or two files with
//     the same number, fail with a message saying what to do.
//     TestSchemasAgree compares the tables and columns of both dialects
//     after all migrations, and TestMigrations applies them one at a time.
//   - incident.go (in this package): its Go types and methods, on *Tx for
//     changes (so they commit with their audit entry) and on *Store for
//     reads.
//
// For example, in incident.go:
//
//	func (t *Tx) CreateIncident(ctx context.Context, in *Incident) error {
//		_, err := t.Exec(ctx, "incident-insert", in.ID, in.Title, toMS(in.AwareAt))
//		return err
//	}
//
// Capability packages that would rather keep their SQL code at home can
// call the same named queries from outside through Tx.Exec, Tx.Query,
// Tx.QueryRow and Store.Query, with ToMS and FromMS for times; the SQL
// files still live here, because they are embedded in this package.
//
// Errors: an id that does not exist is ErrNotFound, wrapped with what was
// looked for ("host h-1: not found"); the server maps it to 404.
package store
