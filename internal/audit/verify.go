package audit

import (
	"crypto/sha256"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Problem is what the verifier found wrong: the first bad entry (its index
// and, when it still exists, its id) or the bad checkpoint.
type Problem struct {
	// Index is the first entry that is not what was appended: changed,
	// missing, inserted or out of place. -1 when the problem is a
	// checkpoint alone.
	Index int64
	// ID is that entry's id; empty when the entry is missing.
	ID string
	// Checkpoint is the position (in size order) of the checkpoint
	// involved, or -1.
	Checkpoint int
	// What says what is wrong, for a person.
	What string
}

func (p *Problem) Error() string {
	var b strings.Builder
	switch {
	case p.Index >= 0 && p.ID != "":
		fmt.Fprintf(&b, "entry %d (id %s): ", p.Index, p.ID)
	case p.Index >= 0:
		fmt.Fprintf(&b, "entry %d: ", p.Index)
	case p.Checkpoint >= 0:
		fmt.Fprintf(&b, "checkpoint %d: ", p.Checkpoint)
	}
	b.WriteString(p.What)
	return b.String()
}

// Result describes a log that verified.
type Result struct {
	Size int64
	Root Hash
	// Checkpoints is the number of signed checkpoints checked.
	Checkpoints int
	// Latest is the largest checkpoint (zero value when there is none).
	// Entries at or after Latest.Size are vouched for only by the hash
	// chain, not yet by a signature.
	Latest Checkpoint
}

// Verifier checks a log entry by entry, in index order, against its signed
// checkpoints. Memory does not grow with the log: it keeps one hash per
// level of the tree and the checkpoints.
type Verifier struct {
	cps  []Checkpoint // sorted by size
	next int          // next checkpoint to compare
	n    int64
	// stack holds the roots of the perfect subtrees covering leaves
	// [0, n), largest first: one per set bit of n.
	stack []Hash

	prev   Hash
	prevID string
	buf    []byte
	// vouched is the size of the last checkpoint that matched; vouchedID
	// is the id of entry vouched, the first one no signature covers yet.
	vouched   int64
	vouchedID string
}

// NewVerifier opens every signed checkpoint with the public key. A
// checkpoint that does not verify or does not parse is reported as a
// *Problem naming it (its position in the order given).
func NewVerifier(key note.Verifier, signed [][]byte) (*Verifier, error) {
	v := &Verifier{}
	for i, msg := range signed {
		c, err := Open(msg, key)
		if err != nil {
			return nil, &Problem{Index: -1, Checkpoint: i, What: fmt.Sprintf("bad checkpoint: %v", err)}
		}
		v.cps = append(v.cps, c)
	}
	sort.SliceStable(v.cps, func(i, j int) bool { return v.cps[i].Size < v.cps[j].Size })
	if err := v.checkpoints(); err != nil {
		return nil, err
	}
	return v, nil
}

// Add checks the next entry. Its stored hash, when not zero, must match
// the hash recomputed from its fields.
func (v *Verifier) Add(e *Entry) error {
	switch {
	case e.Index < v.n:
		return &Problem{Index: e.Index, ID: e.ID, Checkpoint: -1,
			What: fmt.Sprintf("inserted or out of order: index %d comes after entry %d (id %s)", e.Index, v.n-1, v.prevID)}
	case e.Index > v.n:
		what := fmt.Sprintf("missing: entry %d (id %s) is followed by entry %d (id %s)", v.n-1, v.prevID, e.Index, e.ID)
		if v.n == 0 {
			what = fmt.Sprintf("missing: the log starts at entry %d (id %s)", e.Index, e.ID)
		}
		return &Problem{Index: v.n, Checkpoint: -1, What: what}
	}
	// One buffer for every entry: verifying a large log should cost
	// hashing, not allocation.
	v.buf = e.appendLeafData(append(v.buf[:0], 0))
	h := Hash(sha256.Sum256(v.buf))
	if e.Hash != (Hash{}) && e.Hash != h {
		return &Problem{Index: e.Index, ID: e.ID, Checkpoint: -1,
			What: "changed: its fields do not match the leaf hash recorded when it was appended"}
	}
	if e.Prev != v.prev {
		if v.n == 0 {
			return &Problem{Index: 0, ID: e.ID, Checkpoint: -1, What: "changed: the first entry must record a zero previous hash"}
		}
		return &Problem{Index: v.n - 1, ID: v.prevID, Checkpoint: -1,
			What: fmt.Sprintf("changed: it does not match the hash that the next entry, %d (id %s), recorded for its predecessor: one of the two was altered, or entries between them were removed", e.Index, e.ID)}
	}
	if v.n == v.vouched {
		v.vouchedID = e.ID
	}
	v.push(h)
	v.prev, v.prevID = h, e.ID
	return v.checkpoints()
}

// checkpoints compares every checkpoint of the current size with the root.
func (v *Verifier) checkpoints() error {
	for v.next < len(v.cps) && v.cps[v.next].Size == v.n {
		c := v.cps[v.next]
		if root := v.root(); root != c.Root {
			if c.Size == v.vouched {
				// Nothing was appended since a checkpoint that matched
				// (or the tree is empty): the signature itself is wrong.
				return &Problem{Index: -1, Checkpoint: v.next,
					What: fmt.Sprintf("bad checkpoint: signed at %s for size %d with a root that the verified tree of that size does not have", stamp(c.Time), c.Size)}
			}
			return &Problem{Index: v.vouched, ID: v.vouchedID, Checkpoint: v.next,
				What: fmt.Sprintf("the tree of size %d does not match the checkpoint signed at %s: an entry from here to %d was changed, inserted or removed, with every hash after it rewritten",
					c.Size, stamp(c.Time), c.Size-1)}
		}
		v.vouched, v.vouchedID = v.n, ""
		v.next++
	}
	return nil
}

// Finish checks that no checkpoint is larger than the log and returns the
// log's size and root.
func (v *Verifier) Finish() (Result, error) {
	if v.next < len(v.cps) {
		c := v.cps[len(v.cps)-1]
		return Result{}, &Problem{Index: v.n, Checkpoint: len(v.cps) - 1,
			What: fmt.Sprintf("missing: the log ends at %d entries but a checkpoint signed at %s covers %d",
				v.n, stamp(c.Time), c.Size)}
	}
	r := Result{Size: v.n, Root: v.root(), Checkpoints: len(v.cps)}
	if len(v.cps) > 0 {
		r.Latest = v.cps[len(v.cps)-1]
	}
	return r, nil
}

func (v *Verifier) push(h Hash) {
	v.stack = append(v.stack, h)
	for i := v.n; i&1 == 1; i >>= 1 {
		k := len(v.stack)
		v.stack[k-2] = tlog.NodeHash(v.stack[k-2], v.stack[k-1])
		v.stack = v.stack[:k-1]
	}
	v.n++
}

// root folds the perfect subtrees from the right, which is RFC 6962's
// split at the largest power of two below the size.
func (v *Verifier) root() Hash {
	if len(v.stack) == 0 {
		return sha256.Sum256(nil)
	}
	r := v.stack[len(v.stack)-1]
	for i := len(v.stack) - 2; i >= 0; i-- {
		r = tlog.NodeHash(v.stack[i], r)
	}
	return r
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
