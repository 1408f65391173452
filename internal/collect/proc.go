package collect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Process is one running process.
type Process struct {
	PID     int      `json:"pid"`
	PPID    int      `json:"ppid"`
	UID     int      `json:"uid"`
	Comm    string   `json:"comm"`
	Exe     string   `json:"exe,omitempty"`
	Cmdline []string `json:"cmdline,omitempty"`
	// SHA256 is the digest of the executable as mapped by the process,
	// read through /proc/PID/exe so that a deleted or replaced binary is
	// still hashed. Empty for kernel threads and when access was denied
	// (ExeError says why).
	SHA256   string `json:"sha256,omitempty"`
	ExeError string `json:"exe_error,omitempty"`
	// Deleted is set when the executable was unlinked after start, a
	// common trait of malware cleaning up after itself.
	Deleted bool `json:"deleted,omitempty"`
}

// Hasher hashes executables, remembering each by device, inode, size and
// modification time so that a fleet of identical processes (or the same
// process seen every few seconds) costs one read. Safe for concurrent use.
type Hasher struct {
	mu    sync.Mutex
	cache map[exeKey]string
	// MaxSize bounds what is hashed; bigger executables get ExeError.
	MaxSize int64
}

type exeKey struct {
	dev, ino uint64
	size     int64
	mtime    int64 // Unix nanoseconds
}

// NewHasher returns a Hasher with a 512 MiB size bound.
func NewHasher() *Hasher {
	return &Hasher{cache: map[exeKey]string{}, MaxSize: 512 << 20}
}

// Hash returns the SHA-256 of the file at path (which may be a
// /proc/PID/exe link), from the cache when the file is unchanged.
func (h *Hasher) Hash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	dev, ino, ok := fileIdentity(fi)
	if !ok {
		return "", fmt.Errorf("%s: no inode information", path)
	}
	key := exeKey{dev: dev, ino: ino, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	h.mu.Lock()
	sum, ok := h.cache[key]
	h.mu.Unlock()
	if ok {
		return sum, nil
	}
	if h.MaxSize > 0 && fi.Size() > h.MaxSize {
		return "", fmt.Errorf("%s: %d bytes, over the %d byte hashing limit", path, fi.Size(), h.MaxSize)
	}
	d := sha256.New()
	if _, err := io.Copy(d, f); err != nil {
		return "", err
	}
	sum = hex.EncodeToString(d.Sum(nil))
	h.mu.Lock()
	h.cache[key] = sum
	h.mu.Unlock()
	return sum, nil
}

// Processes lists the processes under procRoot (normally "/proc"). A
// process that exits during the walk is left out.
func Processes(ctx context.Context, procRoot string, h *Hasher) ([]Process, error) {
	pids, err := listPIDs(procRoot)
	if err != nil {
		return nil, err
	}
	out := make([]Process, 0, len(pids))
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, ok := readProcess(procRoot, pid, h)
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func readProcess(procRoot string, pid int, h *Hasher) (Process, bool) {
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return Process{}, false
	}
	p := Process{PID: pid}
	parseStatus(status, &p)
	if cmd, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil && len(cmd) > 0 {
		p.Cmdline = strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
	}
	exe, err := os.Readlink(filepath.Join(dir, "exe"))
	if err != nil {
		// Kernel threads have no executable; only report real failures.
		if len(p.Cmdline) > 0 {
			p.ExeError = err.Error()
		}
		return p, true
	}
	if trimmed, ok := strings.CutSuffix(exe, " (deleted)"); ok {
		exe, p.Deleted = trimmed, true
	}
	p.Exe = exe
	if h != nil {
		sum, err := h.Hash(filepath.Join(dir, "exe"))
		if err != nil {
			p.ExeError = err.Error()
		} else {
			p.SHA256 = sum
		}
	}
	return p, true
}

// parseStatus fills name, parent and real uid from /proc/PID/status.
func parseStatus(b []byte, p *Process) {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		k, v, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			continue
		}
		v = bytes.TrimSpace(v)
		switch string(k) {
		case "Name":
			p.Comm = string(v)
		case "PPid":
			p.PPID, _ = strconv.Atoi(string(v))
		case "Uid":
			if f := bytes.Fields(v); len(f) > 0 {
				p.UID, _ = strconv.Atoi(string(f[0]))
			}
		}
	}
}
