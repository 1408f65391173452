package audit

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Hash is a SHA-256 node or leaf hash of the tree.
type Hash = tlog.Hash

// Entry is one audited action: a leaf of the log's Merkle tree.
//
// Index, Prev and Hash are set by [Entry.Seal] when the entry is appended;
// the other fields describe the action.
type Entry struct {
	Index int64  `json:"index"`
	ID    string `json:"id"`
	// Time is kept to the millisecond, as the store keeps it.
	Time      time.Time `json:"time"`
	Actor     string    `json:"actor"`
	Role      string    `json:"role"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Reason    string    `json:"reason"`
	RequestID string    `json:"request_id"`
	// Result is "ok" for a change that was made, or the refusal: an HTTP
	// status and the error message (for example "403 role viewer may not
	// ...").
	Result string `json:"result"`
	// Detail is optional machine-readable context, usually JSON: the
	// previous and new state of what changed.
	Detail string `json:"detail,omitempty"`
	// Prev is the leaf hash of entry Index-1 (zero for the first entry).
	// It chains each entry to the one before it, so an entry changed or
	// removed in the middle of the log is found even when no signed
	// checkpoint covers it yet.
	Prev Hash `json:"prev"`
	// Hash is the leaf hash as recorded at append time. The verifier
	// recomputes it from the fields above and compares.
	Hash Hash `json:"hash"`
}

// ResultOK is the result of an action that was carried out.
const ResultOK = "ok"

// NewID returns a fresh entry id: "a-" and 16 hex digits.
func NewID() string {
	var b [8]byte
	rand.Read(b[:])
	return "a-" + hex.EncodeToString(b[:])
}

// Seal fixes the entry's position in the log: its index, the leaf hash
// of its predecessor, its time rounded to the millisecond in UTC, an id if
// it has none, and its own leaf hash.
func (e *Entry) Seal(index int64, prev Hash) error {
	if index < 0 {
		return errors.New("audit: negative index")
	}
	if e.Action == "" {
		return errors.New("audit: entry without an action")
	}
	if e.Time.IsZero() {
		return errors.New("audit: entry without a time")
	}
	if e.ID == "" {
		e.ID = NewID()
	}
	e.Index = index
	e.Prev = prev
	e.Time = time.UnixMilli(e.Time.UnixMilli()).UTC()
	e.Hash = e.LeafHash()
	return nil
}

// leafHeader starts every leaf; the version lets a later encoding coexist.
const leafHeader = "mamori-audit/1\n"

// LeafData returns the entry's canonical encoding, the bytes its leaf hash
// covers. See the package documentation for the format.
func (e *Entry) LeafData() []byte {
	return e.appendLeafData(make([]byte, 0, 256+len(e.Reason)+len(e.Detail)))
}

func (e *Entry) appendLeafData(b []byte) []byte {
	var num [24]byte
	var prev [44]byte
	base64.StdEncoding.Encode(prev[:], e.Prev[:])
	b = append(b, leafHeader...)
	b = appendField(b, "index", strconv.AppendInt(num[:0], e.Index, 10))
	b = appendStringField(b, "id", e.ID)
	b = appendField(b, "time", strconv.AppendInt(num[:0], e.Time.UnixMilli(), 10))
	b = appendStringField(b, "actor", e.Actor)
	b = appendStringField(b, "role", e.Role)
	b = appendStringField(b, "action", e.Action)
	b = appendStringField(b, "target", e.Target)
	b = appendStringField(b, "reason", e.Reason)
	b = appendStringField(b, "request_id", e.RequestID)
	b = appendStringField(b, "result", e.Result)
	b = appendStringField(b, "detail", e.Detail)
	b = appendField(b, "prev", prev[:])
	return b
}

// appendField writes "name LEN:VALUE\n". The byte length in front of the
// value makes the encoding unambiguous whatever the value holds, without
// any escaping an independent verifier would have to reproduce.
func appendField(b []byte, name string, v []byte) []byte {
	b = append(b, name...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	b = append(b, v...)
	return append(b, '\n')
}

func appendStringField(b []byte, name, v string) []byte {
	b = append(b, name...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	b = append(b, v...)
	return append(b, '\n')
}

// LeafHash computes the RFC 6962 leaf hash of the entry's canonical
// encoding: SHA-256 of a zero byte followed by [Entry.LeafData].
func (e *Entry) LeafHash() Hash {
	return tlog.RecordHash(e.LeafData())
}
