// Package workspace is the obligations part of the incident workspace on
// the server: for each incident, the facts the obligations engine judges
// (derived from the incident until a person with the privacy role sets
// them, with a reason, audited), the duties with a countdown, warnings for
// deadlines within 24 hours, and the drafts of the reports and notices.
//
// Routes (below /api/v1):
//
//	GET    /incidents/{id}/obligations               duties, countdown, warnings, the facts judged
//	PUT    /incidents/{id}/obligations/facts         set the facts (privacy), answering with the drafts' diffs
//	DELETE /incidents/{id}/obligations/facts         go back to derived facts (privacy)
//	GET    /incidents/{id}/obligations/drafts        every draft, as JSON
//	GET    /incidents/{id}/obligations/drafts/{name} one draft, ?format=json|markdown|html
//	GET    /obligations/warnings                     incidents not closed with a deadline within 24 h or past
//
// The incident stays the one source of aware_at: stored facts are judged
// with the incident's current aware_at, and a facts document naming
// another one is refused. Facts are derived, until set, from aware_at and
// the incident's links: cause malware when detections are linked, other
// otherwise, and the people, categories and flags of the incident's last
// scoping register (none, so no duties, before one is built).
package workspace
