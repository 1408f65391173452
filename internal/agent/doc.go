// Package agent owns the endpoint side of the fleet: enrolment with the
// server's CA, the single long-lived WebSocket over mutual TLS, heartbeats
// with the host's inventory, scheduled, on-demand and sweep scans with the
// rule bundle the server pushes, the on-disk queue that keeps findings until
// the server acknowledges them, heightened monitoring (collectors and a
// file watcher on the scan paths), and host isolation through
// internal/contain with its state kept across restarts.
//
// The data directory holds the identity (agent.key, agent.crt and
// identity.json, mode 0600) and agent.db, a SQLite database with the
// findings queue, the last bundle, the monitoring level, the isolation state
// with its policy, and the sweeps received. Findings get ids derived from
// what was found (kind, rule, indicator, path, content digest, sweep), so a
// re-send after a lost acknowledgement or a re-scan of an unchanged file is
// one detection on the server.
//
// A sweep or collection with pii also runs scope.FileMatcher (its subject
// key in DIR/scope.key) and sends each FileResult part as a finding of type
// "pii_file" as the scan fills it, so that a large file's results are
// never all in memory; what it could not search is counted in the host's sweep
// error. Findings batches are bounded by encoded bytes as well as count, so
// large results stay within the wire's message limit.
//
// In normal monitoring files are scanned on schedule, when a new bundle
// arrives and on demand; in heightened monitoring a watcher on the scan
// paths also scans each file created or changed, about 200 ms after it
// settles, and collectors report new executables, sockets and persistence
// changes.
//
// The agent speaks internal/wire and runs the same scan pipeline as
// `mamori scan`; it knows nothing of how the server stores what it sends.
package agent
