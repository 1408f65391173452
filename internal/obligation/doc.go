// Package obligation owns the legal side of a breach: which laws apply to an
// incident's facts, what each requires of the organisation and by when, and
// the drafts of the reports and notices those duties call for.
//
// Everything here is a pure function of a Facts document and the law in force
// at its aware_at: the rules are Go tables (rules.go), each with a validity
// period, the provision it rests on and a plain-language reason, so an
// incident from 2023 is judged by the rules of 2023. The package knows
// nothing of servers or stores; the incident workspace derives Facts from an
// incident and its register and renders the result.
package obligation
