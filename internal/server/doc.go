// Package server is the mamori fleet server: its own certificate authority
// and agent enrolment, the agent gateway (one WebSocket per agent over mutual
// TLS, speaking internal/wire), the admin JSON API under /api/v1, rule
// bundles, sweeps, per-host monitoring levels and the isolation state
// machine, all persisted through internal/store.
//
// One TLS listener serves both the API and the gateway. Agents present the
// client certificate issued at enrolment; API callers present the admin
// token as a bearer token instead.
//
// Scale: a connection costs one goroutine (reading from it) and no
// tickers of its own; writes to an agent happen on the goroutine that has
// something to say. Heartbeats only touch memory, flushed to the
// store in one transaction every few seconds, and finding batches from all
// agents are group-committed by one ingest goroutine.
package server
