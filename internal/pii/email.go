package pii

import "strings"

func isLocalByte(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

// notTLD holds file extensions and private names that look like top-level
// domains in "icon@2x.png" or "root@host.local" but never end a mailbox
// that identifies a person.
var notTLD = map[string]bool{
	"png": true, "jpg": true, "jpeg": true, "gif": true, "svg": true, "webp": true, "ico": true, "bmp": true,
	"css": true, "js": true, "json": true, "xml": true, "html": true, "htm": true, "txt": true, "log": true,
	"zip": true, "gz": true, "tar": true, "exe": true, "dll": true, "so": true, "py": true, "go": true,
	"java": true, "class": true, "jar": true, "md": true, "yml": true, "yaml": true, "toml": true, "ini": true,
	"cfg": true, "conf": true, "pdf": true, "doc": true, "docx": true, "xls": true, "xlsx": true, "csv": true,
	"tsv": true, "mp3": true, "mp4": true, "wav": true, "mov": true, "local": true, "localdomain": true,
	"internal": true, "lan": true, "localhost": true, "lock": true, "tmp": true, "bak": true,
}

// email validates the address around the '@' at text[at] and returns the
// byte after it, or at when there is none.
func (d *detector) email(at int) int {
	t := d.text
	s := at
	for s > 0 && at-s <= 64 && isLocalByte(t[s-1]) {
		s--
	}
	if s > 0 && isLocalByte(t[s-1]) {
		return at // local part too long
	}
	for s < at && (t[s] == '.' || t[s] == '-' || t[s] == '+') {
		s++
	}
	if s == at || t[at-1] == '.' || strings.Contains(t[s:at], "..") {
		return at
	}
	e := at + 1
	for e < len(t) && e-at <= 255 && (isAlnum(t[e]) || t[e] == '-' || t[e] == '.') {
		e++
	}
	for e > at+1 && (t[e-1] == '.' || t[e-1] == '-') {
		e--
	}
	if e < len(t) && (t[e] == '@' || t[e] == '_') {
		return at
	}
	domain := t[at+1 : e]
	dot := strings.LastIndexByte(domain, '.')
	if dot <= 0 {
		return at
	}
	tld := strings.ToLower(domain[dot+1:])
	if len(tld) < 2 || len(tld) > 24 || notTLD[tld] {
		return at
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return at
		}
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return at
		}
	}
	d.emit(Email, s, e)
	return e
}
