package evtx_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/evtx"
	"github.com/mamori-dev/mamori/internal/logevent"
)

// corpusDir is SigmaHQ's regression data, shared read-only beside the
// worktrees; MAMORI_EVTX_CORPUS points the oracle at another directory of
// .evtx files (a reviewer's attack samples).
func corpusDir(t testing.TB) string {
	dir := os.Getenv("MAMORI_EVTX_CORPUS")
	if dir == "" {
		dir = "../../../shared/corpus/sigma/regression_data"
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no EVTX corpus at %s", dir)
	}
	return dir
}

func evtxFiles(t testing.TB, dir string) []string {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// oracleRecord is what both readers are compared on.
type oracleRecord struct {
	EventID  int64
	RecordID uint64
	Time     time.Time
	Channel  string
	Provider string
	Host     string
	Fields   map[string]string
}

// xnode is a generic XML element of evtxexport's output.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []xnode    `xml:",any"`
}

func (n *xnode) kid(name string) *xnode {
	for i := range n.Kids {
		if n.Kids[i].XMLName.Local == name {
			return &n.Kids[i]
		}
	}
	return nil
}

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// evtxexportRecords runs Debian's evtxexport (libevtx) on a file.
func evtxexportRecords(t *testing.T, path string) []oracleRecord {
	out, err := exec.Command("evtxexport", "-f", "xml", path).Output()
	if err != nil {
		t.Fatalf("evtxexport %s: %v", path, err)
	}
	dec := xml.NewDecoder(bytes.NewReader(out))
	var recs []oracleRecord
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatalf("evtxexport %s output: %v", path, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "Event" {
			continue
		}
		var ev xnode
		if err := dec.DecodeElement(&ev, &se); err != nil {
			t.Fatalf("evtxexport %s output: %v", path, err)
		}
		r := oracleRecord{Fields: map[string]string{}}
		if sys := ev.kid("System"); sys != nil {
			if k := sys.kid("EventID"); k != nil {
				r.EventID, _ = strconv.ParseInt(k.Text, 10, 64)
			}
			if k := sys.kid("EventRecordID"); k != nil {
				r.RecordID, _ = strconv.ParseUint(k.Text, 10, 64)
			}
			if k := sys.kid("TimeCreated"); k != nil {
				r.Time, _ = time.Parse(time.RFC3339Nano, k.attr("SystemTime"))
			}
			if k := sys.kid("Channel"); k != nil {
				r.Channel = k.Text
			}
			if k := sys.kid("Provider"); k != nil {
				r.Provider = k.attr("Name")
			}
			if k := sys.kid("Computer"); k != nil {
				r.Host = k.Text
			}
			for _, name := range []string{"Level", "Task", "Opcode", "Keywords"} {
				if k := sys.kid(name); k != nil && k.Text != "" {
					r.Fields[name] = norm(k.Text)
				}
			}
		}
		if ed := ev.kid("EventData"); ed != nil {
			n := 0
			for _, k := range ed.Kids {
				if name := k.attr("Name"); k.XMLName.Local == "Data" && name != "" {
					r.Fields[name] = norm(k.Text)
				} else if k.XMLName.Local == "Data" {
					n++
					r.Fields["Data"+strconv.Itoa(n)] = norm(k.Text)
				} else {
					r.Fields[k.XMLName.Local] = norm(k.Text)
				}
			}
		}
		if ud := ev.kid("UserData"); ud != nil {
			for _, k := range ud.Kids {
				xleaves(r.Fields, &k)
			}
		}
		recs = append(recs, r)
	}
}

func xleaves(f map[string]string, n *xnode) {
	for i := range n.Kids {
		if k := &n.Kids[i]; len(k.Kids) == 0 {
			f[k.XMLName.Local] = norm(k.Text)
		} else {
			xleaves(f, k)
		}
	}
}

func ourRecords(t *testing.T, path string) []oracleRecord {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	r, err := evtx.Open(f, st.Size(), path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []oracleRecord
	err = r.Events(context.Background(), func(e *logevent.Event) error {
		o := oracleRecord{EventID: e.EventID, RecordID: e.RecordID, Time: e.Time,
			Channel: e.Channel, Provider: e.Provider, Host: e.Host, Fields: map[string]string{}}
		for k, v := range e.Fields {
			if k == "Data" {
				continue // the union of Data1..., which evtxexport does not have
			}
			o.Fields[k] = norm(evtx.Text(v))
		}
		recs = append(recs, o)
		return nil
	}, func(err error) { t.Errorf("%v", err) })
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestOracleEvtxexport compares every record of every corpus file with
// libevtx's evtxexport: event id, record id, time, channel, provider,
// computer and every EventData/UserData field as text.
func TestOracleEvtxexport(t *testing.T) {
	if _, err := exec.LookPath("evtxexport"); err != nil {
		t.Skip("evtxexport not installed (apt-get install libevtx-utils)")
	}
	files := evtxFiles(t, corpusDir(t))
	records := 0
	for _, p := range files {
		want := evtxexportRecords(t, p)
		got := ourRecords(t, p)
		if d := cmp.Diff(got, want); d != "" {
			t.Errorf("%s (-ours +evtxexport):\n%s", p, d)
			continue
		}
		records += len(got)
	}
	t.Logf("%d files, %d records equal to evtxexport's", len(files), records)
}

// norm removes the differences of rendering that are not of content:
// evtxexport pads hex integers to their width where Windows does not, and
// XML parsing turns CR LF into LF.
func norm(s string) string {
	if len(s) > 2 && s[:2] == "0x" {
		if n, err := strconv.ParseUint(s[2:], 16, 64); err == nil {
			return "0x" + strconv.FormatUint(n, 16)
		}
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}
