package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// ExportFormat names the JSONL export layout in its header line.
const ExportFormat = "mamori-audit-export/1"

// Header is the first line of an export.
type Header struct {
	Type   string `json:"type"` // "header"
	Format string `json:"format"`
	Origin string `json:"origin"`
	// PublicKey is the server's verifier key, for information: an auditor
	// verifies with the copy of the key they obtained independently.
	PublicKey  string    `json:"public_key"`
	Size       int64     `json:"size"`
	ExportedAt time.Time `json:"exported_at"`
}

type checkpointLine struct {
	Type string `json:"type"` // "checkpoint"
	Note string `json:"note"`
}

type entryLine struct {
	Type string `json:"type"` // "entry"
	*Entry
}

// Exporter writes the JSONL export: the header, every signed checkpoint
// and then every entry in index order, one JSON object per line.
type Exporter struct {
	w       *bufio.Writer
	entries bool
	err     error
}

// NewExporter writes the header line.
func NewExporter(w io.Writer, h Header) *Exporter {
	x := &Exporter{w: bufio.NewWriterSize(w, 1<<16)}
	h.Type, h.Format = "header", ExportFormat
	h.ExportedAt = h.ExportedAt.UTC()
	x.line(h)
	return x
}

// Checkpoint writes a signed checkpoint; all come before the entries.
func (x *Exporter) Checkpoint(signed []byte) error {
	if x.entries && x.err == nil {
		x.err = errors.New("audit: export: checkpoint after entries")
	}
	x.line(checkpointLine{Type: "checkpoint", Note: string(signed)})
	return x.err
}

// Entry writes the next entry.
func (x *Exporter) Entry(e *Entry) error {
	x.entries = true
	x.line(entryLine{Type: "entry", Entry: e})
	return x.err
}

// Close flushes the export.
func (x *Exporter) Close() error {
	if x.err != nil {
		return x.err
	}
	if err := x.w.Flush(); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

func (x *Exporter) line(v any) {
	if x.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		x.err = fmt.Errorf("audit: export: %w", err)
		return
	}
	b = append(b, '\n')
	if _, err := x.w.Write(b); err != nil {
		x.err = fmt.Errorf("audit: export: %w", err)
	}
}

// maxExportLine bounds one line of an export (an entry's reason and
// detail included).
const maxExportLine = 16 << 20

// VerifyExport reads an export and verifies it with the public key alone.
// A malformed line is an error naming the line; a log that does not verify
// is a *Problem.
func VerifyExport(r io.Reader, key note.Verifier) (Header, Result, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxExportLine)
	var (
		h      Header
		signed [][]byte
		v      *Verifier
		line   int
	)
	for sc.Scan() {
		line++
		b := sc.Bytes()
		var kind struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(b, &kind); err != nil {
			return h, Result{}, fmt.Errorf("export line %d: %w", line, err)
		}
		if line == 1 {
			if kind.Type != "header" {
				return h, Result{}, fmt.Errorf("export line 1: want a header, got type %q", kind.Type)
			}
			if err := strict(b, &h); err != nil {
				return h, Result{}, fmt.Errorf("export line 1: %w", err)
			}
			if h.Format != ExportFormat {
				return h, Result{}, fmt.Errorf("export line 1: format %q, want %q", h.Format, ExportFormat)
			}
			continue
		}
		switch kind.Type {
		case "checkpoint":
			if v != nil {
				return h, Result{}, fmt.Errorf("export line %d: checkpoint after the first entry", line)
			}
			var c checkpointLine
			if err := strict(b, &c); err != nil {
				return h, Result{}, fmt.Errorf("export line %d: %w", line, err)
			}
			signed = append(signed, []byte(c.Note))
		case "entry":
			if v == nil {
				var err error
				if v, err = NewVerifier(key, signed); err != nil {
					return h, Result{}, err
				}
			}
			e := entryLine{Entry: &Entry{}}
			if err := strict(b, &e); err != nil {
				return h, Result{}, fmt.Errorf("export line %d: %w", line, err)
			}
			if err := v.Add(e.Entry); err != nil {
				return h, Result{}, err
			}
		default:
			return h, Result{}, fmt.Errorf("export line %d: unknown type %q", line, kind.Type)
		}
	}
	if err := sc.Err(); err != nil {
		return h, Result{}, fmt.Errorf("export line %d: %w", line+1, err)
	}
	if line == 0 {
		return h, Result{}, errors.New("export: empty")
	}
	if v == nil {
		var err error
		if v, err = NewVerifier(key, signed); err != nil {
			return h, Result{}, err
		}
	}
	res, err := v.Finish()
	if err != nil {
		return h, Result{}, err
	}
	if res.Size != h.Size {
		return h, res, fmt.Errorf("export: the header announces %d entries, the export holds %d", h.Size, res.Size)
	}
	return h, res, nil
}

func strict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	return d.Decode(v)
}
