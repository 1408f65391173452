package pe

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mamori-dev/mamori/internal/yara/pe/petest"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// summary is the part of File the table test pins down.
type summary struct {
	Is64, IsDLL      bool
	Machine          int64
	NumberOfSections int64
	EntryPoint       int64
	Sections         []string
	Imports          map[string][]string
	Imphash          string
	DLLName          string
	Exports          []string
	Resources        int64
	VersionInfo      map[string]string
	Rich             bool
	Overlay          Overlay
}

func summarize(f *File) summary {
	s := summary{
		Is64: f.Is64Bit(), IsDLL: f.IsDLL() != 0, Machine: f.Machine,
		NumberOfSections: f.NumberOfSections, EntryPoint: f.EntryPoint,
		Imphash: f.Imphash(), Resources: f.NumberOfResources,
		VersionInfo: f.VersionInfo, Rich: f.RichSignature != nil, Overlay: f.Overlay,
	}
	for _, sec := range f.Sections {
		s.Sections = append(s.Sections, sec.Name)
	}
	for _, d := range f.ImportDetails {
		if s.Imports == nil {
			s.Imports = map[string][]string{}
		}
		for _, fn := range d.Functions {
			s.Imports[d.Name] = append(s.Imports[d.Name], fn.Name)
		}
	}
	if f.DLLName != nil {
		s.DLLName = *f.DLLName
	}
	for _, e := range f.ExportDetails {
		if e.Name != nil {
			s.Exports = append(s.Exports, *e.Name)
		}
	}
	return s
}

func TestParseBuilt(t *testing.T) {
	tests := []struct {
		name string
		spec petest.Spec
		want summary
	}{
		{
			name: "minimal 32-bit",
			spec: petest.Spec{},
			want: summary{Machine: 0x14c, NumberOfSections: 1, EntryPoint: 0x200, Sections: []string{".text"}, Imphash: md5hex("")},
		},
		{
			name: "64-bit DLL with imports, exports, overlay",
			spec: petest.Spec{
				Is64: true, DLL: true, EntryOffset: 3, Code: bytes.Repeat([]byte{0x90}, 16),
				Imports: []petest.Import{
					{DLL: "KERNEL32.dll", Functions: []string{"CreateFileA", "WriteFile"}},
					{DLL: "WS2_32.dll", Functions: []string{"#4", "#999"}},
				},
				ExportName: "evil.dll", Exports: []string{"Run", "Install"},
				Overlay: []byte("tail"),
			},
			want: summary{
				Is64: true, IsDLL: true, Machine: 0x8664, NumberOfSections: 3, EntryPoint: 0x203,
				Sections: []string{".text", ".idata", ".edata"},
				Imports: map[string][]string{
					"KERNEL32.dll": {"CreateFileA", "WriteFile"},
					"WS2_32.dll":   {"connect", "ord999"},
				},
				Imphash: md5hex("kernel32.createfilea,kernel32.writefile,ws2_32.connect,ws2_32.ord999"),
				DLLName: "evil.dll", Exports: []string{"Run", "Install"},
				Overlay: Overlay{Offset: 0x800, Size: 4},
			},
		},
		{
			name: "resources, version info and Rich header",
			spec: petest.Spec{
				Rich:        true,
				Resources:   []petest.Resource{{Type: 10, ID: 101, Language: 0x409, Data: []byte("payload")}},
				VersionInfo: [][2]string{{"CompanyName", "Evil Corp"}, {"OriginalFilename", "evil.exe"}},
			},
			want: summary{
				Machine: 0x14c, NumberOfSections: 2, EntryPoint: 0x200, Sections: []string{".text", ".rsrc"},
				Imphash: md5hex(""), Resources: 2, Rich: true,
				VersionInfo: map[string]string{"CompanyName": "Evil Corp", "OriginalFilename": "evil.exe"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ok := Parse(petest.Build(tt.spec))
			if !ok {
				t.Fatal("Parse: not a PE")
			}
			if diff := cmp.Diff(summarize(f), tt.want); diff != "" {
				t.Errorf("Parse mismatch (-got +want):\n%s", diff)
			}
		})
	}
}

func TestParseNotPE(t *testing.T) {
	valid := petest.Build(petest.Spec{})
	badLfanew := bytes.Clone(valid)
	badLfanew[0x3c], badLfanew[0x3f] = 0xff, 0x7f
	tests := map[string][]byte{
		"empty":                   nil,
		"MZ only":                 []byte("MZ"),
		"ELF":                     append([]byte("\x7fELF"), make([]byte, 200)...),
		"lfanew beyond the file":  badLfanew,
		"no PE signature":         append([]byte("MZ"), make([]byte, 400)...),
		"truncated optional hdr":  valid[:0x80+24+100],
		"64-bit header truncated": petest.Build(petest.Spec{Is64: true})[:0x80+24+230],
	}
	for name, data := range tests {
		if f, ok := Parse(data); ok {
			t.Errorf("%s: Parse = %+v, want not a PE", name, f.Machine)
		}
	}
}

// TestParseMutated flips bytes of built PEs and requires parse (without
// the recover safety net) not to panic.
func TestParseMutated(t *testing.T) {
	seeds := petest.Samples()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		data := bytes.Clone(seeds[i%len(seeds)])
		for n := r.IntN(8) + 1; n > 0; n-- {
			data[r.IntN(len(data))] = byte(r.Uint32())
		}
		if r.IntN(4) == 0 {
			data = data[:r.IntN(len(data))]
		}
		exercise(data)
	}
}

// exercise parses data and calls every function the evaluator may call.
func exercise(data []byte) {
	f, ok := parse(data)
	if !ok {
		return
	}
	f.Imphash()
	f.CalculateChecksum()
	f.Imports(-1, "kernel32.dll", "CreateFileA")
	f.ImportsOrdinal(-1, "ws2_32.dll", 4)
	f.ImportsDLL(-1, "kernel32.dll")
	f.Exports("Run")
	f.ExportsOrdinal(1)
	f.SectionIndexName(".text")
	f.SectionIndexAddr(0x200)
	f.RVAToOffset(0x1000)
	f.Locale(0x409)
	f.Language(9)
	v := int64(30729)
	f.RichVersion(&v, nil)
}

func FuzzParse(f *testing.F) {
	for _, s := range petest.Samples() {
		f.Add(s)
	}
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, data []byte) {
		exercise(data)
	})
}
