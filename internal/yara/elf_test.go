package yara

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// elfFacts renders what mamori's elf module sees in a file as YARA
// conditions that must all hold, one per rule.
func elfFacts(f *elfFile) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	ptr := func(name string, v *int64) {
		if v == nil {
			add("not defined elf.%s", name)
		} else {
			add("elf.%s == %d", name, *v)
		}
	}
	if f == nil {
		return []string{"not defined elf.type", "elf.ET_EXEC == 2"}
	}
	ptr("type", f.Type)
	ptr("machine", f.Machine)
	ptr("entry_point", f.EntryPoint)
	ptr("number_of_sections", f.NumberOfSections)
	ptr("number_of_segments", f.NumberOfSegments)
	ptr("dynamic_section_entries", f.DynamicEntries)
	ptr("symtab_entries", f.SymtabEntries)
	ptr("dynsym_entries", f.DynsymEntries)
	for i, s := range f.Sections {
		add("elf.sections[%d].type == %d and elf.sections[%d].offset == %d and elf.sections[%d].size == %d and elf.sections[%d].flags == %d", i, s.Type, i, s.Offset, i, s.Size, i, s.Flags)
		if s.Name == nil {
			add("not defined elf.sections[%d].name", i)
		} else {
			add("elf.sections[%d].name == %s", i, strconv.Quote(*s.Name))
		}
	}
	for i, s := range f.Segments {
		add("elf.segments[%d].type == %d and elf.segments[%d].virtual_address == %d and elf.segments[%d].memory_size == %d and elf.segments[%d].flags == %d", i, s.Type, i, s.VirtualAddress, i, s.MemorySize, i, s.Flags)
	}
	for i, d := range f.Dynamic {
		add("elf.dynamic[%d].type == %d and elf.dynamic[%d].val == %d", i, d.Type, i, d.Val)
	}
	for i, s := range f.Dynsym {
		if i > 50 {
			break
		}
		cond := fmt.Sprintf("elf.dynsym[%d].value == %d and elf.dynsym[%d].bind == %d and elf.dynsym[%d].type == %d and elf.dynsym[%d].shndx == %d", i, s.Value, i, s.Bind, i, s.Type, i, s.Shndx)
		if s.Name != nil && !strings.ContainsAny(*s.Name, "\"\\") {
			cond += fmt.Sprintf(" and elf.dynsym[%d].name == %q", i, *s.Name)
		}
		add("%s", cond)
	}
	return out
}

func TestELFModuleAgainstYara(t *testing.T) {
	bin, err := exec.LookPath("yara")
	if err != nil {
		t.Skip("yara not on PATH")
	}
	self, _ := os.Executable()
	files := []string{self, "/bin/sh", "/usr/bin/yara"}
	libs, _ := filepath.Glob("/usr/lib/x86_64-linux-gnu/libc.so*")
	files = append(files, libs...)
	dir := t.TempDir()
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		facts := elfFacts(parseELF(data))
		if v, ok := entryPointOffset(data); ok {
			facts = append(facts, fmt.Sprintf("entrypoint == %d", v))
		}
		var src strings.Builder
		src.WriteString("import \"elf\"\n")
		for i, c := range facts {
			fmt.Fprintf(&src, "rule f%d { condition: %s }\n", i, c)
		}
		rf := filepath.Join(dir, "r.yar")
		if err := os.WriteFile(rf, []byte(src.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Compile(src.String(), rf, CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Scan(context.Background(), data, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != len(facts) {
			t.Errorf("%s: mamori matches %d of its own %d facts", path, len(res), len(facts))
		}
		out, err := exec.Command(bin, "-w", "-n", rf, path).CombinedOutput()
		if err != nil {
			t.Fatalf("yara: %v: %s", err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				i, _ := strconv.Atoi(strings.TrimPrefix(f[0], "f"))
				t.Errorf("%s: yara disagrees: %s", path, facts[i])
			}
		}
	}
}
