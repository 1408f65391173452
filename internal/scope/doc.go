// Package scope owns entity resolution for a breach: it turns personal-data
// occurrences found in files on many hosts, plus optional customer master
// data, into a register of the real people affected.
//
// Each data subject of a file (a CSV row, a JSON object, a letter: one
// pii "record") is a node. Nodes are clustered with union-find over
// deterministic keys built from normalised values (normalize.go):
//
//   - identity keys merge unconditionally: My Number, passport, driver's
//     licence, card number (kept as a keyed hash only), name + date of
//     birth, name + normalised address;
//   - contact keys, e-mail and phone, merge only when the names agree or
//     one side has no name: a household phone or a shared family mailbox
//     does not make two differently named people one. A nameless node
//     goes to the one named person holding its contact value once all the
//     round's keys are in (settle), so the order files are read in does
//     not matter; held by several differently named people it is proposed
//     to each and counted as none of them, like a mention.
//
// A name alone is never a key: two 山田太郎 sharing nothing else are two
// people. Records holding only a name are one person per name, unless a
// person known by keys has that name: then they are a mention, proposed
// and not counted. A record naming several people (two written names, more
// than three e-mails or phones) is split into one node per value. A near-match pass (edit distance on names that share a phone or a
// date of birth) only proposes merges; a person confirms or rejects each
// (Decisions), and nothing probabilistic merges by itself.
//
// Occurrences come from saved `mamori scan --pii` output (ReadResults) or,
// on an agent, from FileMatcher, which runs the same matcher and emits one
// FileResult per file with personal data for the server. Both name a
// subject's member the same way (memberNamer): a spreadsheet row is one
// subject of its sheet.
//
// Every merge is recorded with the key kind and the two sources it joined.
// Person ids are "p-" plus a keyed hash of the cluster's strongest key, so
// reruns over the same data with the same key agree.
package scope
