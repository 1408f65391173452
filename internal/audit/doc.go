// Package audit owns mamori's tamper-evident audit log: the entry type and
// its canonical encoding, the RFC 6962 Merkle tree over the entries, signed
// checkpoints of that tree, inclusion and consistency proofs, the verifier,
// and the JSONL export an auditor verifies with the server's public key
// alone. It knows nothing of databases or HTTP: the store keeps the entries
// and checkpoints, the server appends and signs.
//
// # Entries
//
// An [Entry] records one action: actor, role, time, action, target, reason,
// request id and result (plus optional detail), with its index in the log
// (0, 1, 2, ...), a random id ("a-" and 16 hex digits), the leaf hash of the
// entry before it (Prev, zero for entry 0) and its own leaf hash.
//
// The leaf hash is SHA-256(0x00 || data) (RFC 6962 §2.1), where data is the
// entry's canonical encoding: the line "mamori-audit/1", then one line per
// field in this order
//
//	index id time actor role action target reason request_id result detail prev
//
// each written as NAME, a space, the value's length in bytes in decimal, a
// colon, the value's bytes, and a newline. index and time (Unix
// milliseconds, UTC) are decimal; prev is the standard base64 of its 32
// bytes. Values are never escaped: the length prefix makes the encoding
// unambiguous. Entry 5 with actor "alice" starts
//
//	mamori-audit/1
//	index 1:5
//	id 18:a-0123456789abcdef
//	...
//	actor 5:alice
//
// # Tree and checkpoints
//
// The leaves form an RFC 6962 Merkle tree (interior node SHA-256(0x01 ||
// left || right), computed with golang.org/x/mod/sumdb/tlog). The server
// signs checkpoints of it with its own Ed25519 key as signed notes
// (golang.org/x/mod/sumdb/note); the body is the C2SP tlog-checkpoint
// layout with a time extension line:
//
//	<origin: the key's name>
//	<tree size>
//	<base64 root hash>
//	time <RFC 3339 UTC>
//
// The key lives in the data directory as audit.key (mode 0600); audit.pub
// holds the verifier key ("name+hash+base64") to hand to auditors.
//
// # What the verifier guarantees
//
// [Verifier] reads the entries in index order with the signed checkpoints
// and stops at the first problem, naming the first bad entry's index and id:
//
//   - A changed field is found at that entry, with or without a checkpoint:
//     the recomputed leaf hash differs from the hash stored with it, or, if
//     the stored hash was rewritten too, from the Prev its successor
//     recorded (both entries are named; the earlier is reported).
//   - A deleted entry in the middle leaves a gap in the indexes; the missing
//     index is reported with the ids of its neighbours. Renumbering the
//     entries after it changes their hashes and breaks the chain as above.
//   - An inserted entry repeats or breaks the index sequence, or breaks the
//     chain, in the same ways. Reordered entries break both.
//   - A bad checkpoint (a signature that does not verify with the key, a
//     body that does not parse, an origin other than the key's name) is
//     reported by its position.
//
// What a database writer without the signing key can still do, and what
// catches it:
//
//   - Rewrite an entry together with every hash after it (a consistent
//     forgery of the suffix). Only a signed checkpoint covering the entry
//     detects this: the tree of that size no longer has the signed root.
//     The verifier then names the first entry not covered by an earlier
//     matching checkpoint, as the changed entry is somewhere between it and
//     the checkpoint's size. The server signs at least once a minute while
//     entries arrive, which bounds that window.
//   - Delete entries at the end of the log: detected when a checkpoint
//     covers them ("the log ends at N entries but a checkpoint covers M").
//     The newest entries, appended after the last checkpoint, are vouched
//     for by the hash chain only; [Result.Latest] says how far signatures
//     reach.
//   - Delete checkpoints, or everything. Only a checkpoint held outside
//     the server detects this, which is why auditors keep the exports (and
//     the checkpoints) they are given: a later export must contain a tree
//     consistent with every checkpoint they hold.
//
// # The auditor's procedure
//
// `mamori audit export --format jsonl` writes a header line, every signed
// checkpoint, then every entry in index order (see [Exporter]). Given the
// export and the server's public key (audit.pub, obtained independently of
// the export, for example at installation):
//
//	mamori audit verify --export audit.jsonl --key audit.pub
//
// exits 0 and prints the size and root of a log that verifies, 1 naming
// the first bad entry otherwise. Without mamori, an auditor can check the
// same by hand: for each entry line, rebuild the canonical encoding above
// from its fields, check that SHA-256(0x00 || data) equals its "hash" and
// that its "prev" equals the previous entry's hash; build the RFC 6962 tree
// over those hashes; for each checkpoint, verify the Ed25519 signature of
// the note (https://pkg.go.dev/golang.org/x/mod/sumdb/note) with the public
// key and compare its root with the tree of its size. Keep the checkpoint
// with the largest size: a later export that is not an extension of it
// (its tree of that size has a different root) was rewritten.
package audit
