package scan

import (
	"encoding/base64"
	"unicode/utf8"
)

// DisplayPath returns a file name as valid UTF-8: each byte that is not part
// of a valid UTF-8 sequence becomes the four characters \xHH (lower-case
// hex). Names from hostile or legacy file systems (Latin-1, Shift_JIS on
// a Linux volume) then stay distinct and readable, where encoding/json
// would fold every such byte into U+FFFD. Valid names are returned as they
// are.
func DisplayPath(p string) string {
	if utf8.ValidString(p) {
		return p
	}
	b := make([]byte, 0, len(p)+8)
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRuneInString(p[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, '\\', 'x', hexDigits[p[i]>>4], hexDigits[p[i]&0xf])
			i++
			continue
		}
		b = append(b, p[i:i+size]...)
		i += size
	}
	return string(b)
}

// RawPath returns the base64 (standard, padded) of a file name's bytes when
// DisplayPath had to change it, and "" otherwise. Records carry it as
// path_raw so the exact name can be recovered to find the file.
func RawPath(p string) string {
	if utf8.ValidString(p) {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(p))
}

// EscapeText makes a line of text output safe for a terminal: control
// characters (C0, DEL, C1) and the bidirectional overrides that can make a
// file name read backwards are written as \xHH or \uHHHH, so a hostile file
// name can neither forge extra output lines nor disguise its extension.
func EscapeText(s string) string {
	clean := true
	for _, r := range s {
		if needsEscape(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for _, r := range s {
		switch {
		case !needsEscape(r):
			b = utf8.AppendRune(b, r)
		case r < 0x100:
			b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&0xf])
		default:
			b = append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
		}
	}
	return string(b)
}

func needsEscape(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}
