package scan

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seen records what matchers were handed, so tests can check the pipeline
// without caring about any real indicator format.
type seen struct {
	mu      sync.Mutex
	files   map[string]File
	onMatch func(f *File)
	need    Digests
}

func (s *seen) Digests() Digests { return s.need }
func (s *seen) Match(_ context.Context, f *File, emit func(Record)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string]File{}
	}
	c := *f
	c.Data = append([]byte(nil), f.Data...)
	if f.Data == nil {
		c.Data = nil
	}
	s.files[f.Path] = c
	if s.onMatch != nil {
		s.onMatch(f)
	}
	return nil
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func run(t *testing.T, roots []string, opts Options, m Matcher) ([]Record, SummaryRecord) {
	t.Helper()
	var recs []Record
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sum, err := Run(ctx, roots, opts, []Matcher{m}, func(r Record) { recs = append(recs, r) })
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return recs, sum
}

func errorsOf(recs []Record) map[string]string {
	out := map[string]string{}
	for _, r := range recs {
		if e, ok := r.(*ErrorRecord); ok {
			out[e.Path] = e.Error
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var k []string
	for p := range m {
		k = append(k, p)
	}
	sort.Strings(k)
	return k
}

func TestRunHostileTree(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.txt"), "alpha")
	write(t, filepath.Join(dir, "sub", "b.bin"), "bravo")
	write(t, filepath.Join(dir, "empty"), "")
	write(t, filepath.Join(dir, "skip", "c.txt"), "charlie")
	write(t, filepath.Join(dir, "big"), strings.Repeat("x", 100))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A symlink loop: sub/loop points back at the root.
	if err := os.Symlink(dir, filepath.Join(dir, "sub", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dangling-target", filepath.Join(dir, "dangling")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.txt"), filepath.Join(dir, "link-to-a")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		opts       Options
		wantFiles  []string
		wantErrors []string
	}{
		{
			name:      "defaults skip symlinks and the fifo",
			opts:      Options{Exclude: []string{"skip"}, MaxFileSize: 50},
			wantFiles: []string{"a.txt", "big", "empty", "sub/b.bin"},
			// big is over MaxFileSize: hashed, not content-scanned, said so.
			wantErrors: []string{"big"},
		},
		{
			name:      "following symlinks detects the loop and the dangling link",
			opts:      Options{FollowSymlinks: true, Exclude: []string{"skip", "big"}},
			wantFiles: []string{"a.txt", "empty", "link-to-a", "sub/b.bin"},
			wantErrors: []string{
				"dangling",
				"sub/loop",
			},
		},
		{
			name:      "exclude by full path glob",
			opts:      Options{Exclude: []string{filepath.Join(dir, "sub"), "skip", "big"}},
			wantFiles: []string{"a.txt", "empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &seen{}
			recs, sum := run(t, []string{dir}, tt.opts, m)
			var got []string
			for _, p := range keys(m.files) {
				got = append(got, strings.TrimPrefix(p, dir+"/"))
			}
			if diff := cmp.Diff(got, tt.wantFiles); diff != "" {
				t.Errorf("files handed to matchers (-got +want):\n%s", diff)
			}
			var gotErr []string
			for _, p := range keys(errorsOf(recs)) {
				gotErr = append(gotErr, strings.TrimPrefix(p, dir+"/"))
			}
			if diff := cmp.Diff(gotErr, tt.wantErrors); diff != "" {
				t.Errorf("error records (-got +want):\n%s\n%v", diff, errorsOf(recs))
			}
			if sum.Files != int64(len(tt.wantFiles)) || sum.Errors != int64(len(tt.wantErrors)) {
				t.Errorf("summary = %+v, want %d files, %d errors", sum, len(tt.wantFiles), len(tt.wantErrors))
			}
			if last := recs[len(recs)-1]; last.Kind() != "summary" {
				t.Errorf("last record is %q, want summary", last.Kind())
			}
		})
	}
}

func TestRunHandsOverContentAndDigests(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "f"), "abc")
	write(t, filepath.Join(dir, "big"), "0123456789")
	m := &seen{need: MD5 | SHA1}
	run(t, []string{dir}, Options{MaxFileSize: 5}, m)
	got := m.files[filepath.Join(dir, "f")]
	want := File{
		Path:   filepath.Join(dir, "f"),
		Size:   3,
		Data:   []byte("abc"),
		MD5:    "900150983cd24fb0d6963f7d28e17f72",
		SHA1:   "a9993e364706816aba3e25717850c26c9cd0d89d",
		SHA256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("file (-got +want):\n%s", diff)
	}
	big := m.files[filepath.Join(dir, "big")]
	if big.Data != nil || big.SHA256 != "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882" {
		t.Errorf("over-size file: data %q sha256 %s; want no data and the full digest", big.Data, big.SHA256)
	}
}

func TestRunSHA256Only(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "f"), "abc")
	m := &seen{}
	run(t, []string{dir}, Options{}, m)
	f := m.files[filepath.Join(dir, "f")]
	if f.MD5 != "" || f.SHA1 != "" || f.SHA256 == "" {
		t.Errorf("digests = md5 %q sha1 %q sha256 %q; want SHA-256 only", f.MD5, f.SHA1, f.SHA256)
	}
}

func TestRunFileRemovedMidScan(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	write(t, a, "first")
	write(t, b, "second")
	// With one worker the walker queues both files before the worker opens
	// b; removing b while a is being matched makes b vanish mid-scan.
	m := &seen{onMatch: func(f *File) {
		if f.Path == a {
			os.Remove(b)
		}
	}}
	recs, _ := run(t, []string{dir}, Options{Threads: 1}, m)
	errs := errorsOf(recs)
	if !strings.Contains(errs[b], "vanished") {
		t.Errorf("error for removed file = %q, want it to say the file vanished (all: %v)", errs[b], errs)
	}
}

func TestRunMissingRoot(t *testing.T) {
	recs, sum := run(t, []string{filepath.Join(t.TempDir(), "nope")}, Options{}, &seen{})
	if sum.Errors != 1 || len(errorsOf(recs)) != 1 {
		t.Errorf("missing root: summary %+v, want one error record", sum)
	}
}

func TestRunCancelled(t *testing.T) {
	dir := t.TempDir()
	for i := range 50 {
		write(t, filepath.Join(dir, "d", string(rune('a'+i%26)), "f"+string(rune('a'+i/26))), "x")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, []string{dir}, Options{}, []Matcher{&seen{}}, func(Record) {})
	if err == nil {
		t.Fatal("Run with a cancelled context returned no error")
	}
}

func TestRunRootSymlinkToFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	link := filepath.Join(dir, "link")
	write(t, target, "abc")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	m := &seen{}
	recs, _ := run(t, []string{link}, Options{}, m)
	if errs := errorsOf(recs); len(errs) != 0 {
		t.Errorf("a symlink named as root must be followed, like find -H; errors: %v", errs)
	}
	if _, ok := m.files[link]; !ok {
		t.Errorf("files handed to matchers: %v, want %s", keys(m.files), link)
	}
}

// /proc files report size 0 but never end; a read bounded by the size seen
// at open keeps them (and growing logs) from holding a worker forever.
func TestRunEndlessProcFile(t *testing.T) {
	if _, err := os.Stat("/proc/self/pagemap"); err != nil {
		t.Skip("no /proc/self/pagemap here")
	}
	dir := t.TempDir()
	link := filepath.Join(dir, "innocent")
	if err := os.Symlink("/proc/self/pagemap", link); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(t, []string{"/proc/self/pagemap"}, Options{}, &seen{})
		m := &seen{}
		run(t, []string{dir}, Options{FollowSymlinks: true, OneFileSystem: true}, m)
		if len(m.files) != 0 {
			t.Errorf("--one-file-system followed a symlink onto /proc: %v", keys(m.files))
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("scan of an endless /proc file did not finish")
	}
}
