package strmatch

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestConcurrentScan shares one Set between goroutines (run with -race).
func TestConcurrentScan(t *testing.T) {
	s, err := Compile(handPatterns)
	if err != nil {
		t.Fatal(err)
	}
	data := handData()
	var want []Match
	s.Scan(data, func(m Match) { want = append(want, m) })
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				var got []Match
				s.Scan(data[i:], func(m Match) { got = append(got, m) })
				if i == 0 {
					if diff := cmp.Diff(got, want); diff != "" {
						errs <- diff
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for d := range errs {
		t.Errorf("concurrent scan differs (-got +want):\n%s", d)
	}
}
