package server

import "sync"

// group tracks goroutines that may use the store. Once closed it starts no
// more, so nothing can write after the store is closed, and closing waits
// for those running.
type group struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

// Go runs f in a tracked goroutine and reports true, or reports false
// without running it when the group is closed.
func (g *group) Go(f func()) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.wg.Go(f)
	return true
}

// closeAndWait refuses new goroutines and waits for the running ones.
func (g *group) closeAndWait() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
