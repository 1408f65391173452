// Package wire owns the protocol between mamori agents and the mamori
// server: the enrolment request and response, the JSON messages exchanged
// over the agent's single long-lived WebSocket, and the codec that versions
// and validates them. It knows nothing of how either side stores or acts on
// them.
//
// Enrolment: the agent generates an ECDSA P-256 key and sends
// POST EnrollPath with "Authorization: Bearer <fleet enrolment token>" and an
// EnrollRequest carrying a PEM certificate signing request. The server
// answers with an EnrollResponse: the agent id and a client certificate
// signed by the server's CA (its common name is the agent id).
//
// Connection: the agent then dials WebSocketPath over TLS presenting that
// client certificate and keeps that one connection open. Every frame is one
// text message, a JSON Message whose Type says which payload field is set.
// The agent speaks first with TypeHello; the server answers TypeWelcome
// (naming, of the sweeps the Hello lists, those cancelled meanwhile) and
// then sends whatever the agent lacks (current bundle, pending sweeps,
// monitoring level, isolation). A sweep cancelled while the agent is
// connected reaches it as TypeCancelSweep. Commands from the server carry an ID that the
// agent echoes in a TypeCommandAck as soon as it has taken the command in,
// so round-trip time is measurable from either side.
//
// Findings are at-least-once: the agent keeps each Findings batch in its
// on-disk queue until the server acknowledges the batch's Seq with TypeAck,
// which the server sends only after the findings are committed. The server
// de-duplicates by Finding.ID, so re-sending a batch is harmless.
//
// Compatibility: receivers ignore unknown JSON fields, and Decode reports an
// unknown Type with ErrUnknownType so a receiver can skip messages from a
// newer peer. Fields are only ever added; a change that old peers would
// misread gets a new Type instead, and Version is bumped.
package wire
