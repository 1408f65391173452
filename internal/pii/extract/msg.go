package extract

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Outlook .msg files are compound files (the CFB format: a FAT file system
// of sectors inside one file) whose streams hold MAPI properties, one
// stream per property, named __substg1.0_TTTTYYYY after the property tag
// and type. The message becomes one record: sender, recipients, subject
// and body as "label: value" lines; attachments are read as members.

var cfbMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

func isCFB(data []byte) bool { return bytes.HasPrefix(data, cfbMagic) }

const (
	cfbEnd      = 0xFFFFFFFE
	cfbFree     = 0xFFFFFFFF
	cfbMaxChain = 1 << 22 // sectors one chain may have
)

// cfb is a parsed compound file.
type cfb struct {
	data      []byte
	shift     uint
	fat       []uint32
	miniFAT   []uint32
	mini      []byte // the mini stream
	miniCut   uint32
	dir       []cfbEntry
	miniShift uint
}

type cfbEntry struct {
	name               string
	typ                byte // 1 storage, 2 stream, 5 root
	left, right, child uint32
	start              uint32
	size               uint64
}

func parseCFB(data []byte) (*cfb, error) {
	if len(data) < 512 || !isCFB(data) {
		return nil, errors.New("not a compound file")
	}
	le := binary.LittleEndian
	c := &cfb{data: data, shift: uint(le.Uint16(data[0x1E:])), miniShift: uint(le.Uint16(data[0x20:]))}
	if c.shift != 9 && c.shift != 12 || c.miniShift != 6 {
		return nil, fmt.Errorf("sector size 2^%d, mini sector size 2^%d not supported", c.shift, c.miniShift)
	}
	c.miniCut = le.Uint32(data[0x38:])
	// The FAT's sectors are listed in the header's DIFAT and its chain.
	var fatSectors []uint32
	for i := 0; i < 109; i++ {
		if s := le.Uint32(data[0x4C+4*i:]); s < cfbEnd {
			fatSectors = append(fatSectors, s)
		}
	}
	dif := le.Uint32(data[0x44:])
	for n := 0; dif < cfbEnd && n < 1<<16; n++ {
		sec, ok := c.sector(dif)
		if !ok {
			return nil, fmt.Errorf("DIFAT sector %d outside the file", dif)
		}
		per := len(sec)/4 - 1
		for i := 0; i < per; i++ {
			if s := le.Uint32(sec[4*i:]); s < cfbEnd {
				fatSectors = append(fatSectors, s)
			}
		}
		dif = le.Uint32(sec[4*per:])
	}
	for _, s := range fatSectors {
		sec, ok := c.sector(s)
		if !ok {
			return nil, fmt.Errorf("FAT sector %d outside the file", s)
		}
		for i := 0; i+4 <= len(sec); i += 4 {
			c.fat = append(c.fat, le.Uint32(sec[i:]))
		}
	}
	dir, err := c.chain(le.Uint32(data[0x30:]), 0)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	for i := 0; i+128 <= len(dir); i += 128 {
		e := dir[i : i+128]
		n := int(le.Uint16(e[64:]))
		if n > 64 {
			n = 64
		}
		u := make([]uint16, 0, 32)
		for j := 0; j+1 < n-1; j += 2 {
			u = append(u, le.Uint16(e[j:]))
		}
		c.dir = append(c.dir, cfbEntry{name: string(utf16.Decode(u)), typ: e[66],
			left: le.Uint32(e[68:]), right: le.Uint32(e[72:]), child: le.Uint32(e[76:]),
			start: le.Uint32(e[116:]), size: le.Uint64(e[120:])})
	}
	if len(c.dir) == 0 || c.dir[0].typ != 5 {
		return nil, errors.New("no root entry")
	}
	if mf := le.Uint32(data[0x3C:]); mf < cfbEnd {
		b, err := c.chain(mf, 0)
		if err != nil {
			return nil, fmt.Errorf("mini FAT: %w", err)
		}
		for i := 0; i+4 <= len(b); i += 4 {
			c.miniFAT = append(c.miniFAT, le.Uint32(b[i:]))
		}
	}
	if root := c.dir[0]; root.start < cfbEnd {
		c.mini, err = c.chain(root.start, root.size)
		if err != nil {
			return nil, fmt.Errorf("mini stream: %w", err)
		}
	}
	return c, nil
}

func (c *cfb) sector(s uint32) ([]byte, bool) {
	size := 1 << c.shift
	off := (int64(s) + 1) << c.shift
	if off+int64(size) > int64(len(c.data)) {
		return nil, false
	}
	return c.data[off : off+int64(size)], true
}

// chain reads the sectors of a FAT chain from start; size, when not 0,
// cuts the result.
func (c *cfb) chain(start uint32, size uint64) ([]byte, error) {
	var out []byte
	for s, n := start, 0; s < cfbEnd; n++ {
		if n > cfbMaxChain || int(s) >= len(c.fat) && n > 0 {
			return out, fmt.Errorf("sector chain broken at %d", s)
		}
		sec, ok := c.sector(s)
		if !ok {
			return out, fmt.Errorf("sector %d outside the file", s)
		}
		out = append(out, sec...)
		if len(out) > len(c.data) {
			return out, errors.New("sector chain loops")
		}
		if size > 0 && uint64(len(out)) >= size {
			break
		}
		if int(s) >= len(c.fat) {
			break
		}
		s = c.fat[s]
	}
	if size > 0 && uint64(len(out)) > size {
		out = out[:size]
	}
	return out, nil
}

// stream returns the content of directory entry e.
func (c *cfb) stream(e cfbEntry) ([]byte, error) {
	if e.size >= uint64(c.miniCut) {
		return c.chain(e.start, e.size)
	}
	var out []byte
	ms := 1 << c.miniShift
	for s, n := e.start, 0; s < cfbEnd && uint64(len(out)) < e.size; n++ {
		off := int(s) << c.miniShift
		if n > cfbMaxChain || off+ms > len(c.mini) || int(s) >= len(c.miniFAT) {
			return out, fmt.Errorf("mini sector chain broken at %d", s)
		}
		out = append(out, c.mini[off:off+ms]...)
		if len(out) > len(c.mini) {
			return out, errors.New("mini sector chain loops")
		}
		s = c.miniFAT[s]
	}
	if uint64(len(out)) > e.size {
		out = out[:e.size]
	}
	return out, nil
}

// children lists the entries of storage e (its red-black tree).
func (c *cfb) children(e cfbEntry) []cfbEntry {
	var out []cfbEntry
	seen := map[uint32]bool{}
	var walk func(id uint32)
	walk = func(id uint32) {
		if id >= uint32(len(c.dir)) || seen[id] {
			return
		}
		seen[id] = true
		d := c.dir[id]
		walk(d.left)
		out = append(out, d)
		walk(d.right)
	}
	walk(e.child)
	return out
}

// mapiProps reads the string properties of one storage: tag → text, and
// the binary ones asked for.
func (c *cfb) mapiProps(e cfbEntry) (map[string]string, map[string][]byte) {
	strs, bins := map[string]string{}, map[string][]byte{}
	for _, ch := range c.children(e) {
		if ch.typ != 2 || !strings.HasPrefix(ch.name, "__substg1.0_") || len(ch.name) != len("__substg1.0_")+8 {
			continue
		}
		tag, typ := ch.name[12:16], ch.name[16:20]
		b, err := c.stream(ch)
		if err != nil {
			continue
		}
		switch typ {
		case "001F":
			u := make([]uint16, 0, len(b)/2)
			for i := 0; i+1 < len(b); i += 2 {
				u = append(u, binary.LittleEndian.Uint16(b[i:]))
			}
			strs[tag] = strings.TrimRight(string(utf16.Decode(u)), "\x00")
		case "001E":
			strs[tag] = strings.TrimRight(decode(b).text, "\x00")
		case "0102":
			bins[tag] = b
		}
	}
	return strs, bins
}

// readMSG reads an Outlook message: its headers and body as one record,
// its attachments as members.
func (r *reader) readMSG(name, member string, data []byte, depth int) error {
	c, err := parseCFB(data)
	if err != nil {
		r.report(member, 0, fmt.Errorf("msg: %w", err))
		return nil
	}
	root := c.dir[0]
	props, bins := c.mapiProps(root)
	if len(props) == 0 && len(bins) == 0 {
		r.skip(member, "ole2-compound", "a compound file without MAPI message properties (legacy .doc, .xls, .ppt) is not read")
		return nil
	}
	var b strings.Builder
	line := func(label, v string) {
		v = strings.TrimSpace(v)
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, strings.ReplaceAll(v, "\n", " "))
		}
	}
	from := props["0C1A"]
	addr := props["5D01"]
	if addr == "" {
		addr = props["0C1F"]
	}
	if addr != "" && strings.Contains(addr, "@") {
		from += " <" + addr + ">"
	}
	line("From", from)
	var attachments []cfbEntry
	for _, ch := range c.children(root) {
		switch {
		case ch.typ == 1 && strings.HasPrefix(ch.name, "__recip_version1.0_"):
			rp, _ := c.mapiProps(ch)
			to := rp["3001"]
			a := rp["39FE"]
			if a == "" {
				a = rp["3003"]
			}
			if strings.Contains(a, "@") {
				to += " <" + a + ">"
			}
			line("To", to)
		case ch.typ == 1 && strings.HasPrefix(ch.name, "__attach_version1.0_"):
			attachments = append(attachments, ch)
		}
	}
	line("Subject", props["0037"])
	b.WriteString("\n")
	body := props["1000"]
	if body == "" {
		if h, ok := bins["1013"]; ok {
			body = decode(h).text
		}
	}
	b.WriteString(strings.ReplaceAll(body, "\r\n", "\n"))
	text := b.String()
	d := &doc{text: text, data: []byte(text), enc: UTF8, ident: true, firstBad: -1,
		omap: make([]int, len(text)+1)} // offsets inside compound files point at the file's start
	d.cps = []cursor{{0, 0, 0}}
	d.cur = d.cps[0]
	if err := r.readText(d, member, false); err != nil {
		return err
	}
	for i, a := range attachments {
		ap, ab := c.mapiProps(a)
		an := ap["3707"]
		if an == "" {
			an = ap["3704"]
		}
		if an == "" {
			an = fmt.Sprintf("attachment%d", i+1)
		}
		m := joinMember(member, an)
		if depth+1 >= r.lim.MaxDepth {
			r.report(m, 0, fmt.Errorf("attachment nested deeper than %d levels not read", r.lim.MaxDepth))
			continue
		}
		if r.stopped() {
			r.report(m, 0, fmt.Errorf("archive limits reached (%d members, %d bytes); the rest not read", r.lim.MaxMembers, r.lim.MaxTotal))
			return nil
		}
		if content, ok := ab["3701"]; ok {
			r.members++
			r.total += int64(len(content))
			if err := r.read(an, m, content, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
