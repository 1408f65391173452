package extract

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cfbNode is a storage or stream for buildCFB.
type cfbNode struct {
	name     string
	data     []byte // a stream's content
	children []*cfbNode
	storage  bool
}

// buildCFB writes a version 3 compound file (512-byte sectors) holding
// root's tree: streams under 4096 bytes in the mini stream, as Outlook
// stores message properties, larger ones in the FAT.
func buildCFB(root *cfbNode) []byte {
	le := binary.LittleEndian
	type ent struct {
		n                  *cfbNode
		typ                byte
		left, right, child uint32
		start              uint32
		size               uint64
	}
	var ents []*ent
	var add func(n *cfbNode, typ byte) uint32
	add = func(n *cfbNode, typ byte) uint32 {
		id := uint32(len(ents))
		e := &ent{n: n, typ: typ, left: cfbFree, right: cfbFree, child: cfbFree}
		ents = append(ents, e)
		prev := (*ent)(nil)
		for _, c := range n.children {
			t := byte(2)
			if c.storage {
				t = 1
			}
			cid := add(c, t)
			if prev == nil {
				e.child = cid
			} else {
				prev.right = cid
			}
			prev = ents[cid]
		}
		return id
	}
	add(root, 5)
	var mini []byte
	var miniFAT []uint32
	var big [][]byte
	for _, e := range ents[1:] {
		if e.typ != 2 {
			continue
		}
		e.size = uint64(len(e.n.data))
		if len(e.n.data) >= 4096 {
			big = append(big, e.n.data)
			e.start = uint32(len(big) - 1) // fixed up below
			continue
		}
		e.start = uint32(len(mini) / 64)
		n := (len(e.n.data) + 63) / 64
		for i := 0; i < n; i++ {
			if i == n-1 {
				miniFAT = append(miniFAT, cfbEnd)
			} else {
				miniFAT = append(miniFAT, uint32(len(mini)/64+i+1))
			}
		}
		mini = append(mini, e.n.data...)
		mini = append(mini, make([]byte, n*64-len(e.n.data))...)
	}
	secs := func(n int) int { return (n + 511) / 512 }
	dirBytes := len(ents) * 128
	nDir, nMiniFAT, nMini := secs(dirBytes), secs(len(miniFAT)*4), secs(len(mini))
	nBig := 0
	for _, b := range big {
		nBig += secs(len(b))
	}
	nFAT := 1
	for (nFAT+nDir+nMiniFAT+nMini+nBig)*4 > nFAT*512 {
		nFAT++
	}
	fat := make([]uint32, nFAT*128)
	for i := range fat {
		fat[i] = cfbFree
	}
	next := nFAT
	for i := 0; i < nFAT; i++ {
		fat[i] = 0xFFFFFFFD
	}
	chain := func(n int) uint32 {
		if n == 0 {
			return cfbEnd
		}
		s := next
		for i := 0; i < n; i++ {
			if i == n-1 {
				fat[next] = cfbEnd
			} else {
				fat[next] = uint32(next + 1)
			}
			next++
		}
		return uint32(s)
	}
	dirStart, miniFATStart, miniStart := chain(nDir), chain(nMiniFAT), chain(nMini)
	bigStart := map[int]uint32{}
	for i, b := range big {
		bigStart[i] = chain(secs(len(b)))
	}
	ents[0].start, ents[0].size = miniStart, uint64(len(mini))
	for _, e := range ents[1:] {
		if e.typ == 2 && e.size >= 4096 {
			e.start = bigStart[int(e.start)]
		}
	}
	out := make([]byte, 512+next*512)
	copy(out, cfbMagic)
	le.PutUint16(out[0x18:], 0x3E)
	le.PutUint16(out[0x1A:], 3)
	le.PutUint16(out[0x1C:], 0xFFFE)
	le.PutUint16(out[0x1E:], 9)
	le.PutUint16(out[0x20:], 6)
	le.PutUint32(out[0x2C:], uint32(nFAT))
	le.PutUint32(out[0x30:], dirStart)
	le.PutUint32(out[0x38:], 4096)
	le.PutUint32(out[0x3C:], miniFATStart)
	le.PutUint32(out[0x40:], uint32(nMiniFAT))
	le.PutUint32(out[0x44:], cfbEnd)
	for i := 0; i < 109; i++ {
		v := uint32(cfbFree)
		if i < nFAT {
			v = uint32(i)
		}
		le.PutUint32(out[0x4C+4*i:], v)
	}
	sec := func(s uint32) []byte { return out[512+int(s)*512:] }
	for i, v := range fat {
		le.PutUint32(out[512+4*i:], v)
	}
	d := sec(dirStart)
	for i, e := range ents {
		b := d[i*128:]
		name := utf16le(e.n.name, false)
		copy(b, name)
		le.PutUint16(b[64:], uint16(len(name)+2))
		b[66] = e.typ
		le.PutUint32(b[68:], e.left)
		le.PutUint32(b[72:], e.right)
		le.PutUint32(b[76:], e.child)
		le.PutUint32(b[116:], e.start)
		le.PutUint64(b[120:], e.size)
	}
	if nMiniFAT > 0 {
		m := sec(miniFATStart)
		for i := range m[:nMiniFAT*512] {
			m[i] = 0xFF
		}
		for i, v := range miniFAT {
			le.PutUint32(m[4*i:], v)
		}
	}
	if nMini > 0 {
		copy(sec(miniStart), mini)
	}
	for i, b := range big {
		copy(sec(bigStart[i]), b)
	}
	return out
}

func prop(tag, s string) *cfbNode {
	return &cfbNode{name: "__substg1.0_" + tag + "001F", data: utf16le(s, false)}
}

func buildMSG() []byte {
	csv := "name,email\nJane Roe,jane.roe@example.com\n"
	return buildCFB(&cfbNode{name: "Root Entry", children: []*cfbNode{
		prop("0C1A", "山田 太郎"),
		prop("5D01", "taro@example.jp"),
		prop("0037", "ご注文の件"),
		prop("1000", "山田様\r\nお電話 090-1234-5678 ありがとうございました。\r\n"),
		{name: "__recip_version1.0_#00000000", storage: true, children: []*cfbNode{
			prop("3001", "Jane Doe"), prop("39FE", "jane@example.com"),
		}},
		{name: "__attach_version1.0_#00000000", storage: true, children: []*cfbNode{
			prop("3707", "list.csv"),
			{name: "__substg1.0_37010102", data: []byte(csv)},
		}},
		{name: "__substg1.0_10090102", data: []byte(strings.Repeat("r", 5000))}, // a big stream in the FAT
	}})
}

func TestMSG(t *testing.T) {
	recs, errs := readAll(t, "mail.msg", buildMSG())
	if len(errs) > 0 {
		t.Errorf("errors: %v", errs)
	}
	want := []string{
		"0|From|山田 太郎 <taro@example.jp>|1",
		"0|To|Jane Doe <jane@example.com>|2",
		"0|Subject|ご注文の件|3",
		"0||山田様|5",
		"0||お電話 090-1234-5678 ありがとうございました。|6",
		"1|list.csv:name|Jane Roe|2",
		"1|list.csv:email|jane.roe@example.com|2",
	}
	if diff := cmp.Diff(flat(recs), want); diff != "" {
		t.Errorf("records (-got +want):\n%s", diff)
	}
}

func TestCFBNotMessage(t *testing.T) {
	doc := buildCFB(&cfbNode{name: "Root Entry", children: []*cfbNode{{name: "WordDocument", data: []byte("x")}}})
	_, errs := readAll(t, "old.doc", doc)
	if len(errs) != 1 || errs[0].Error() != "skipped ole2-compound: a compound file without MAPI message properties (legacy .doc, .xls, .ppt) is not read" {
		t.Errorf("errors %v", errs)
	}
}

func FuzzMSG(f *testing.F) {
	f.Add(buildMSG())
	f.Add(buildCFB(&cfbNode{name: "Root Entry"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRead(t, "f.msg", data)
	})
}
