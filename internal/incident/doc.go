// Package incident owns the incident: the unit of work of a breach
// response. It defines the incident and its fields (aware_at, from which
// every legal deadline counts), the state machine and which moves it
// allows, the history entries, the append-only notes and decisions, the
// links to hosts and detections, and the auto-incident policy that opens
// an incident for a high-score detection. Those rules are pure functions,
// table-tested. Around them, the package is the server capability of the
// incident workspace (api.go: routes under /api/v1/incidents and the
// policy route; store.go: its reads and writes through the store's named
// queries in queries/incident.sql), and it registers two store hooks: the
// auto-incident policy runs in the transaction that stores new detections,
// and isolation and monitoring changes of linked hosts are recorded in
// their open incidents in the transaction of the change.
//
// # States
//
//	open → contained → investigating → scoped → reporting → notifying → closed
//
// Every state change carries a reason, kept in the incident's history.
// [Check] accepts:
//
//   - the next state in that line;
//   - open → investigating, when there is nothing to contain (for example a
//     lost, already-offline laptop);
//   - one step back (scoped → investigating when new hosts turn up, and so
//     on), and closed → investigating to reopen;
//   - closing early, from any state: a false positive, or a breach that
//     turns out to touch no personal data.
//
// The last two are exceptional moves: without a reason they are refused as
// a conflict (409) like any move that is not listed, naming the allowed
// next states. An ordinary move without a reason is bad input (400). Every
// other jump is refused: open → notifying cannot skip scoping and the
// report, and notifying cannot be reached except from reporting.
//
// # Auto-incident
//
// [AutoPolicy] decides, for each new detection, whether it opens an
// incident or joins one: a detection whose rule score (meta "score", or
// "severity" low 25, medium 50, high 75, critical 100) is at least
// MinScore (default 70) on a host that has no open incident opens one,
// with the host and the detection linked and aware_at the detection's time.
// Any later detection on a host of an open (not closed) incident, whatever
// its score, is linked to that incident.
//
// One outbreak is one incident: a detection that would open an incident
// joins instead the last incident the policy opened, host and detection
// linked and the link audited (incident.link_host by the policy), when
// that incident is not closed and was opened at most JoinWindowSeconds
// ago (default 24 h; 0 turns joining off). A person splits an unrelated
// host off with the unlink route. One server stores detections one batch
// at a time, so two hosts' first detections never race; two servers on
// one PostgreSQL database may, at the same instant, still open two.
package incident
