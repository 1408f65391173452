// Package agent owns the endpoint side of the fleet: enrolment with the
// server's CA, the single long-lived WebSocket over mutual TLS, heartbeats
// with the host's inventory, scheduled, on-demand and sweep scans with the
// rule bundle the server pushes, the on-disk queue that keeps findings until
// the server acknowledges them, heightened monitoring (collectors and a
// file watcher on the scan paths), and host isolation through
// internal/contain with its state kept across restarts.
//
// The agent speaks internal/wire and runs the same scan pipeline as
// `mamori scan`; it knows nothing of how the server stores what it sends.
package agent
