//go:build linux

package scan

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// hit is a finding record for files whose content holds a needle.
type hit struct{ Path string }

func (h *hit) Kind() string  { return "hit" }
func (h *hit) Finding() bool { return true }
func (h *hit) Text() string  { return h.Path }

type needle []byte

func (needle) Digests() Digests { return 0 }
func (n needle) Match(_ context.Context, f *File, emit func(Record)) error {
	if bytes.Contains(f.Data, n) {
		emit(&hit{Path: f.Path})
	}
	return nil
}

// deepTree makes levels nested directories named name under root, built
// relative to descriptors (a plain path would be refused past PATH_MAX),
// writes content to "bottom.txt" at the bottom, with a symlink "link" to it
// beside it, and returns the file's full path.
func deepTree(t *testing.T, root, name string, levels int, content string) string {
	t.Helper()
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	path := root
	for range levels {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
		path += "/" + name
	}
	defer unix.Close(fd)
	f, err := unix.Openat(fd, "bottom.txt", unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(f, []byte(content)); err != nil {
		t.Fatal(err)
	}
	unix.Close(f)
	if err := unix.Symlinkat("bottom.txt", fd, "link"); err != nil {
		t.Fatal(err)
	}
	return path + "/bottom.txt"
}

func TestRunBeyondPathMax(t *testing.T) {
	dir := t.TempDir()
	// 40 levels of 200-byte names: about 8,000 bytes, twice PATH_MAX.
	deep := deepTree(t, dir, strings.Repeat("d", 200), 40, "the needle is here")
	if len(deep) < 2*pathMax-200 {
		t.Fatalf("tree is only %d bytes deep", len(deep))
	}
	link := filepath.Join(filepath.Dir(deep), "link")

	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{name: "plain", want: []string{deep}},
		{name: "following symlinks", opts: Options{FollowSymlinks: true}, want: []string{deep, link}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []Record
			sum, err := Run(context.Background(), []string{dir}, tt.opts, []Matcher{needle("needle")}, func(r Record) { recs = append(recs, r) })
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				if h, ok := r.(*hit); ok {
					got = append(got, h.Path)
				}
			}
			if diff := cmp.Diff(sortedCopy(got), sortedCopy(tt.want)); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
			if sum.Errors != 0 {
				t.Errorf("errors: %v", errorsOf(recs))
			}
		})
	}
}

func sortedCopy(s []string) []string {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return keys(m)
}
