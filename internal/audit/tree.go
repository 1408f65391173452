package audit

import (
	"fmt"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// Tree holds every node hash of the log's Merkle tree in memory (about
// 64 bytes per entry), so the server answers root, inclusion and
// consistency queries without reading the log. It is safe for concurrent
// use.
type Tree struct {
	mu     sync.RWMutex
	n      int64
	hashes []Hash // indexed by tlog.StoredHashIndex
}

// Size returns the number of leaves.
func (t *Tree) Size() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}

// Append adds the next leaf hash.
func (t *Tree) Append(leaf Hash) {
	t.mu.Lock()
	defer t.mu.Unlock()
	// The hashes StoredHashesForRecordHash reads are all earlier ones,
	// which are in the slice; it cannot fail on this reader.
	hs, err := tlog.StoredHashesForRecordHash(t.n, leaf, t.reader())
	if err != nil {
		panic(fmt.Sprintf("audit: tree append: %v", err))
	}
	t.hashes = append(t.hashes, hs...)
	t.n++
}

func (t *Tree) reader() tlog.HashReader {
	return tlog.HashReaderFunc(func(idx []int64) ([]Hash, error) {
		out := make([]Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(t.hashes)) {
				return nil, fmt.Errorf("audit: stored hash %d of %d", x, len(t.hashes))
			}
			out[i] = t.hashes[x]
		}
		return out, nil
	})
}

func (t *Tree) checkSize(n int64) error {
	if n < 0 || n > t.n {
		return fmt.Errorf("audit: tree size %d out of range [0, %d]", n, t.n)
	}
	return nil
}

// Root returns the root hash of the tree of the first n leaves.
func (t *Tree) Root(n int64) (Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkSize(n); err != nil {
		return Hash{}, err
	}
	return tlog.TreeHash(n, t.reader())
}

// Leaf returns the leaf hash at index i.
func (t *Tree) Leaf(i int64) (Hash, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if i < 0 || i >= t.n {
		return Hash{}, fmt.Errorf("audit: entry %d out of range [0, %d)", i, t.n)
	}
	return t.hashes[tlog.StoredHashIndex(0, i)], nil
}

// InclusionProof proves that leaf i is in the tree of size n.
func (t *Tree) InclusionProof(i, n int64) (tlog.RecordProof, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkSize(n); err != nil {
		return nil, err
	}
	if i < 0 || i >= n {
		return nil, fmt.Errorf("audit: entry %d out of range [0, %d)", i, n)
	}
	return tlog.ProveRecord(n, i, t.reader())
}

// ConsistencyProof proves that the tree of size n1 is a prefix of the
// tree of size n2.
func (t *Tree) ConsistencyProof(n1, n2 int64) (tlog.TreeProof, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.checkSize(n2); err != nil {
		return nil, err
	}
	if n1 < 1 || n1 > n2 {
		return nil, fmt.Errorf("audit: consistency from size %d to %d: need 1 <= %d <= %d", n1, n2, n1, n2)
	}
	return tlog.ProveTree(n2, n1, t.reader())
}

// CheckInclusion verifies an inclusion proof of leaf hash leaf at index i
// in the tree of size n with root root.
func CheckInclusion(proof tlog.RecordProof, n int64, root Hash, i int64, leaf Hash) error {
	return tlog.CheckRecord(proof, n, root, i, leaf)
}

// CheckConsistency verifies a consistency proof between the tree of size
// n1 with root root1 and the tree of size n2 with root root2.
func CheckConsistency(proof tlog.TreeProof, n1 int64, root1 Hash, n2 int64, root2 Hash) error {
	return tlog.CheckTree(proof, n2, root2, n1, root1)
}
