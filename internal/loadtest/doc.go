// Package loadtest owns the fleet load generator behind `mamori loadtest
// agents`: many simulated agents speaking the real protocol (real
// enrolment, one mutual-TLS WebSocket each, internal/wire messages) against
// one server, and the measurements a capacity claim needs: agents
// connected, server RSS and CPU, command round-trip percentiles and
// findings ingested per second.
//
// A simulated agent does what a real one does on the wire and nothing on
// the host: it answers every command at once, reports bundles loaded and
// sweeps done, and sends synthetic findings at the rate asked for. Each has
// its own enrolled identity (the server allows one connection per agent
// id); identities can be kept in a file so that repeated runs skip
// enrolment.
package loadtest
