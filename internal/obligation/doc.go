// Package obligation owns the legal side of a breach: which laws apply to an
// incident's facts, what each requires of the organisation and by when, and
// the drafts of the reports and notices those duties call for.
//
//   - facts.go: the Facts document and its strict decoder (errors name the
//     field); null fields are derived from the cause and the categories.
//   - rules.go: the rule tables, one law per variable, each a list of
//     regimes by the date they came into force, each rule with the
//     provision it rests on and a plain-language reason; categories.go is
//     the table of how each law classes a personal-data category.
//   - engine.go: Assess, a pure function from Facts to duties under the
//     law in force at aware_at; deadline.go holds the zones (embedded tz
//     database) and the Japanese administrative calendar.
//   - countdown.go: a result timed against an instant, with warnings for
//     deadlines within 24 hours.
//   - drafts.go, render.go: the PPC report, the GDPR Art. 33(3)
//     notification, the public statement and the individual notice, as
//     Markdown, HTML and JSON, each naming the facts it used, and a line
//     diff for regenerations.
//
// The package knows nothing of servers or stores: its subpackage workspace
// is the server capability that keeps each incident's facts and serves the
// duties, countdowns and drafts under /api/v1/incidents/{id}/obligations.
package obligation
