package yara

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mamori-dev/mamori/internal/yara/pe/petest"
)

// peSample is a 64-bit DLL with imports by name and ordinal, exports,
// resources, version information, a Rich header and an overlay.
var peSample = string(petest.Samples()[1])

var peCases = []evalCase{
	{name: "basics", data: peSample, want: []string{"basics"}, rules: `import "pe"
rule basics { condition: pe.is_pe and pe.machine == pe.MACHINE_AMD64 and pe.characteristics & pe.DLL and pe.is_dll() and pe.is_64bit() and not pe.is_32bit() and pe.number_of_sections >= 1 and pe.entry_point > 0 and uint16(0) == 0x5a4d }`},
	{name: "sections", data: peSample, want: []string{"s"}, rules: `import "pe"
rule s { condition: pe.sections[0].name == ".text" and for any s in pe.sections : (s.raw_data_size > 0) and for all i in (0..pe.number_of_sections - 1) : (pe.sections[i].virtual_address > 0) and pe.section_index(".text") == 0 }`},
	{name: "imports", data: peSample, want: []string{"i1", "i2", "i3", "i4"}, rules: `import "pe"
rule i1 { condition: pe.imports("kernel32.dll", "CreateFileA") }
rule i2 { condition: pe.imports("KERNEL32.dll", 7) and pe.imports("ws2_32.dll") == 2 }
rule i3 { condition: pe.imports(/kernel32/i, /^Create/) == 1 and pe.number_of_imports == 2 }
rule i4 { condition: pe.imphash() != "" and pe.imports(pe.IMPORT_ANY, "kernel32.dll", "CreateFileA") }
rule i5 { condition: pe.imports("kernel32.dll", "CreateFileW") }`},
	{name: "exports", data: peSample, want: []string{"e1"}, rules: `import "pe"
rule e1 { condition: pe.exports("A") and pe.exports(/^B$/) and pe.exports(1) and pe.number_of_exports == 2 and pe.dll_name == "x.dll" and pe.export_details[0].name == "A" }
rule e2 { condition: pe.exports("C") }`},
	{name: "version info", data: peSample, want: []string{"v1"}, rules: `import "pe"
rule v1 { condition: pe.version_info["CompanyName"] == "X" and for any k, v in pe.version_info : (k == "FileDescription" and v == "Sample") and pe.number_of_resources > 0 and pe.resources[0].type == 10 }
rule v2 { condition: pe.version_info["Nope"] == "X" }`},
	{name: "overlay rich", data: peSample, want: []string{"o"}, rules: `import "pe"
rule o { condition: pe.overlay.size == 7 and pe.rich_signature.offset > 0 and defined pe.rich_signature.clear_data and pe.number_of_signatures == 0 }`},
	{name: "signatures undefined", data: peSample, want: []string{"n"}, rules: `import "pe"
rule n { condition: not (pe.number_of_signatures > 0) and not (for any i in (0..pe.number_of_signatures - 1) : (pe.signatures[i].issuer contains "x")) }`},
}

func TestPEModule(t *testing.T) {
	for _, c := range peCases {
		t.Run(c.name, func(t *testing.T) {
			got := runEval(t, c)
			if diff := cmp.Diff(got, c.want); diff != "" {
				t.Errorf("matched rules (-got +want):\n%s", diff)
			}
		})
	}
}

func TestPEModuleAgainstYara(t *testing.T) {
	for _, c := range peCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := yaraCLI(t, c.rules, c.data, c.defines)
			if diff := cmp.Diff(got, c.want); diff != "" {
				t.Errorf("yara's matches (-yara +table):\n%s", diff)
			}
		})
	}
}
