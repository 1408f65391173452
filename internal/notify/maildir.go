package notify

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// MaildirChecker answers Checker questions from a Maildir that receives
// what the server accepted: the recipient's mailbox, or a copy (an
// always_bcc) kept by the relay. It indexes Message-IDs and re-reads the
// directory when it has changed.
type MaildirChecker struct {
	Dir string

	mu    sync.Mutex
	seen  map[string]bool
	stamp string
}

// Delivered implements Checker.
func (m *MaildirChecker) Delivered(ctx context.Context, messageID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	stamp, err := m.dirStamp()
	if err != nil {
		return false, err
	}
	if m.seen == nil || stamp != m.stamp {
		seen := map[string]bool{}
		err := eachMaildir(ctx, m.Dir, []string{"new", "cur"}, func(path string) error {
			id, err := headerMessageID(path)
			if err == nil && id != "" {
				seen[id] = true
			}
			return nil
		})
		if err != nil {
			return false, err
		}
		m.seen, m.stamp = seen, stamp
	}
	return m.seen[messageID], nil
}

func (m *MaildirChecker) dirStamp() (string, error) {
	var b strings.Builder
	for _, sub := range []string{"new", "cur"} {
		fi, err := os.Stat(filepath.Join(m.Dir, sub))
		if err != nil {
			return "", fmt.Errorf("maildir: %w", err)
		}
		fmt.Fprintf(&b, "%d/", fi.ModTime().UnixNano())
	}
	return b.String(), nil
}

func headerMessageID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h, err := textproto.NewReader(bufio.NewReader(f)).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return "", err
	}
	return strings.TrimSpace(h.Get("Message-Id")), nil
}

func eachMaildir(ctx context.Context, dir string, subs []string, fn func(path string) error) error {
	for _, sub := range subs {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
		for _, e := range entries {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if e.Type().IsRegular() {
				if err := fn(filepath.Join(dir, sub, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ReadBounces reads the new messages of a Maildir that receives the
// campaign's bounces, applies each DSN, and moves every message it has read
// to cur/ so that it is read once. Messages that are not DSNs are moved
// too, and reported.
func (s *Sender) ReadBounces(ctx context.Context, dir string) ([]string, error) {
	var out []string
	err := eachMaildir(ctx, dir, []string{"new"}, func(path string) error {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
		d, err := ParseDSN(f)
		f.Close()
		switch {
		case errors.Is(err, ErrNotDSN):
			out = append(out, fmt.Sprintf("%s: not a DSN; skipped", filepath.Base(path)))
		case err != nil:
			out = append(out, fmt.Sprintf("%s: %v", filepath.Base(path), err))
		default:
			lines, err := s.ApplyDSN(ctx, d)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("maildir %s: %w", path, err)
			}
			if err != nil {
				lines = append(lines, fmt.Sprintf("%s: %v", filepath.Base(path), err))
			}
			out = append(out, lines...)
		}
		dst := filepath.Join(dir, "cur", filepath.Base(path))
		if !strings.Contains(filepath.Base(path), ":2,") {
			dst += ":2,S"
		}
		if err := os.Rename(path, dst); err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
		return nil
	})
	return out, err
}

// WriteMaildir delivers msg into dir/new the Maildir way (write to tmp,
// rename), so a reader never sees half a message.
func WriteMaildir(dir string, msg []byte) error {
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("%d.%d_%d.%s", time.Now().Unix(), os.Getpid(), maildirSeq.next(), strings.ReplaceAll(host, "/", "_"))
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, msg, 0o600); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	return nil
}

type counter struct {
	mu sync.Mutex
	n  uint64
}

func (c *counter) next() uint64 { c.mu.Lock(); defer c.mu.Unlock(); c.n++; return c.n }

var maildirSeq counter
