package ioc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/scan"
)

const (
	abcMD5    = "900150983cd24fb0d6963f7d28e17f72"
	abcSHA1   = "a9993e364706816aba3e25717850c26c9cd0d89d"
	abcSHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
)

// utf16le encodes ASCII-and-BMP text as UTF-16LE.
func utf16le(s string) string {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return string(b)
}

func TestLoadHashesFormats(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    map[string]string // digest -> description
		wantErr string
	}{
		{
			name:    "plain list with comments and mixed algorithms",
			content: "# feed\n\n" + abcMD5 + "\n" + strings.ToUpper(abcSHA1) + "\n" + abcSHA256 + "\n",
			want:    map[string]string{abcMD5: "", abcSHA1: "", abcSHA256: ""},
		},
		{
			name:    "signature-base hash;description and hash;score;description",
			content: abcSHA256 + ";Dark Caracal - PE32; more text\n" + abcMD5 + ";55;Vulnerable Log4j library\n",
			want:    map[string]string{abcSHA256: "Dark Caracal - PE32; more text", abcMD5: "Vulnerable Log4j library"},
		},
		{
			name:    "sha256sum output",
			content: abcSHA256 + "  /tmp/dropper.exe\n" + abcSHA1 + " *bin.dll\n",
			want:    map[string]string{abcSHA256: "/tmp/dropper.exe", abcSHA1: "bin.dll"},
		},
		{
			name:    "CSV with header and description column",
			content: "\ufefffilename,SHA256,md5,Malware\nx.exe," + abcSHA256 + ",,Emotet\ny.dll,," + abcMD5 + ",Qakbot\n",
			want:    map[string]string{abcSHA256: "Emotet", abcMD5: "Qakbot"},
		},
		{
			name:    "TSV with a hash column",
			content: "hash\tnote\n" + abcSHA1 + "\tseen on host 7\n",
			want:    map[string]string{abcSHA1: ""},
		},
		{
			name:    "BOM and a quoted CSV header",
			content: "\ufeff\"SHA256\",\"Description\"\n\"" + abcSHA256 + "\",\"Cobalt Strike\"\n",
			want:    map[string]string{abcSHA256: "Cobalt Strike"},
		},
		{
			name:    "comment lines above a CSV header",
			content: "# exported 2026-11-01\n# source: CERT\nmd5,family\n" + abcMD5 + ",Emotet\n",
			want:    map[string]string{abcMD5: "Emotet"},
		},
		{
			name: "PowerShell Get-FileHash | Export-Csv with ; separator",
			content: "#TYPE Microsoft.Powershell.Utility.FileHash\n\"Algorithm\";\"Hash\";\"Path\"\n" +
				"\"SHA256\";\"" + strings.ToUpper(abcSHA256) + "\";\"C:\\Users\\a\\evil.exe\"\n",
			want: map[string]string{abcSHA256: `C:\Users\a\evil.exe`},
		},
		{
			name:    "UTF-16LE with BOM",
			content: utf16le("\ufeff" + abcSHA1 + ";from a Windows tool\r\n"),
			want:    map[string]string{abcSHA1: "from a Windows tool"},
		},
		{
			name:    "UTF-16LE without BOM",
			content: utf16le(abcMD5 + "\r\n"),
			want:    map[string]string{abcMD5: ""},
		},
		{
			name:    "sha256sum escaped name",
			content: `\` + abcSHA256 + `  /tmp/a\nb\\c` + "\n",
			want:    map[string]string{abcSHA256: "/tmp/a\nb\\c"},
		},
		{
			name:    "bad digest length names the line",
			content: abcMD5 + "\n\nabc123\n",
			wantErr: "feed.txt:3: \"abc123\" has 6 hex digits",
		},
		{
			name:    "non-hex names the line",
			content: "zz" + abcMD5[2:] + ";desc\n",
			wantErr: "feed.txt:1: \"zz",
		},
		{
			name:    "CSV row without digest names the line",
			content: "sha256,name\n" + abcSHA256 + ",a\n,b\n",
			wantErr: "feed.txt:3: row has no digest",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewHashSet()
			err := s.LoadHashes("feed.txt", strings.NewReader(tt.content))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for d := range tt.want {
				if desc, ok := s.Lookup(d); ok {
					got[d] = desc
				}
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("lookups (-got +want):\n%s", diff)
			}
			if s.Len() != len(tt.want) {
				t.Errorf("Len = %d, want %d", s.Len(), len(tt.want))
			}
		})
	}
}

func TestHashSetDigestsAndMatch(t *testing.T) {
	s := NewHashSet()
	if err := s.Add(abcSHA256, "sha256 ioc"); err != nil {
		t.Fatal(err)
	}
	if s.Digests() != 0 {
		t.Errorf("SHA-256-only set asks for %v, want no extra digests", s.Digests())
	}
	if err := s.Add(abcMD5, "md5 ioc"); err != nil {
		t.Fatal(err)
	}
	if s.Digests() != scan.MD5 {
		t.Errorf("Digests = %v, want MD5", s.Digests())
	}
	var got []scan.Record
	f := &scan.File{Path: "/x", Size: 3, MD5: abcMD5, SHA256: abcSHA256}
	if err := s.Match(context.Background(), f, func(r scan.Record) { got = append(got, r) }); err != nil {
		t.Fatal(err)
	}
	want := []scan.Record{
		&HashRecord{Type: "ioc", Path: "/x", Size: 3, SHA256: abcSHA256, Indicator: "md5:" + abcMD5, Description: "md5 ioc"},
		&HashRecord{Type: "ioc", Path: "/x", Size: 3, SHA256: abcSHA256, Indicator: "sha256:" + abcSHA256, Description: "sha256 ioc"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
}

func TestNameSet(t *testing.T) {
	content := `# comment
\\mimikatz\.exe;90
(?i)\\Temp\\[a-z]{4}\.ps1$;60
(?i)\\procdump\.exe;50;(?i)\\sysinternals\\
/etc/cron\.d/[^/]+\.sh$;70
(?<=x)lookbehind;40
no-score-here
`
	var warnings []string
	s := &NameSet{}
	if err := s.LoadNames("names.txt", strings.NewReader(content), func(w string) { warnings = append(warnings, w) }); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 2 || !strings.HasPrefix(warnings[0], "names.txt:6: regex") || !strings.HasPrefix(warnings[1], "names.txt:7: no score") {
		t.Errorf("warnings = %q, want lines 6 (bad regex) and 7 (no score)", warnings)
	}
	tests := []struct {
		path string
		want []string
	}{
		{"/mnt/c/Users/bob/mimikatz.exe", []string{`\\mimikatz\.exe`}},
		{"/mnt/c/Users/bob/MIMIKATZ.EXE", nil},
		{"/mnt/c/Windows/TEMP/abcd.ps1", []string{`(?i)\\Temp\\[a-z]{4}\.ps1$`}},
		{"/mnt/c/Windows/TEMP/abcde.ps1", nil},
		{"/opt/tools/procdump.exe", []string{`(?i)\\procdump\.exe`}},
		{"/opt/SysInternals/procdump.exe", nil},
		{"/etc/cron.d/update.sh", []string{`/etc/cron\.d/[^/]+\.sh$`}},
		{"/home/a/report.txt", nil},
	}
	for _, tt := range tests {
		var got []string
		s.Match(context.Background(), &scan.File{Path: tt.path}, func(r scan.Record) {
			got = append(got, r.(*NameRecord).Pattern)
		})
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", tt.path, diff)
		}
	}
}

func TestRequiredLiteral(t *testing.T) {
	tests := []struct{ re, want string }{
		{`\\mimikatz\.exe`, `\mimikatz.exe`},
		{`(?i)\\Temp\\[a-z]{4}\.ps1$`, `\Temp\`},
		{`(a|b)cd`, "cd"},
		{`.*`, ""},
		{`(foo)+bar`, "foo"},
	}
	for _, tt := range tests {
		if got := requiredLiteral(tt.re); !strings.EqualFold(got, tt.want) {
			t.Errorf("requiredLiteral(%q) = %q, want %q", tt.re, got, tt.want)
		}
	}
}

// TestSignatureBaseFeeds loads the real feeds when the shared corpus is
// there: every hash line must parse, and bad regexes only warn.
func TestSignatureBaseFeeds(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "corpus", "signature-base", "iocs")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("signature-base not present at %s", dir)
	}
	s := NewHashSet()
	if err := s.LoadHashFile(filepath.Join(dir, "hash-iocs.txt")); err != nil {
		t.Fatal(err)
	}
	if s.Len() < 3000 {
		t.Errorf("loaded %d hashes, want over 3000", s.Len())
	}
	n := &NameSet{}
	var warns int
	if err := n.LoadNameFile(filepath.Join(dir, "filename-iocs.txt"), func(string) { warns++ }); err != nil {
		t.Fatal(err)
	}
	if n.Len() < 3500 {
		t.Errorf("loaded %d filename patterns (%d warnings), want over 3500", n.Len(), warns)
	}
	t.Logf("signature-base: %d hashes, %d filename patterns, %d patterns skipped", s.Len(), n.Len(), warns)
}

func FuzzLoadHashes(f *testing.F) {
	f.Add(abcSHA256 + ";desc\n" + abcMD5 + "\n")
	f.Add("sha256,name\n" + abcSHA256 + ",x\n")
	f.Add("hash\tx\n\"" + abcSHA1 + "\"\tq\n")
	f.Add(abcMD5 + ";55;Log4j\n# c\n\n")
	f.Fuzz(func(t *testing.T, content string) {
		s := NewHashSet()
		if err := s.LoadHashes("fuzz", strings.NewReader(content)); err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error does not name the file: %v", err)
			}
		}
	})
}

func FuzzLoadNames(f *testing.F) {
	f.Add(`\\mimikatz\.exe;90` + "\n")
	f.Add(`(?i)\\procdump\.exe;50;(?i)\\sysinternals\\` + "\n")
	f.Add("a;b;c;d\n;;\n")
	f.Fuzz(func(t *testing.T, content string) {
		s := &NameSet{}
		if err := s.LoadNames("fuzz", strings.NewReader(content), func(string) {}); err != nil {
			t.Fatalf("only unreadable input may fail: %v", err)
		}
		s.Match(context.Background(), &scan.File{Path: "/a/b/" + content}, func(scan.Record) {})
	})
}

// BenchmarkLookup measures indicator lookup with a million loaded hashes.
func BenchmarkLookup(b *testing.B) {
	s := NewHashSet()
	buf := make([]byte, 32)
	var probes []string
	for i := range 1_000_000 {
		rand.Read(buf)
		d := hex.EncodeToString(buf)
		if err := s.Add(d, fmt.Sprint("feed ", i%100)); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 0 {
			probes = append(probes, d)
		}
	}
	for range len(probes) {
		rand.Read(buf)
		probes = append(probes, hex.EncodeToString(buf))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		s.Lookup(probes[i%len(probes)])
	}
}
