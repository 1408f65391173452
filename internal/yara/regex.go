package yara

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// translateRegex turns a regular expression in YARA's syntax into a Go
// regexp that matches the same bytes when the subject is passed through
// latin1: YARA regexes work on bytes, Go's on UTF-8, so every byte of both
// pattern and subject is mapped to the rune of the same value.
func translateRegex(src string, nocase, dotall bool) (*regexp.Regexp, error) {
	var b strings.Builder
	if nocase {
		b.WriteString("(?i)")
	}
	if dotall {
		b.WriteString("(?s)")
	}
	inClass := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\':
			if i+1 >= len(src) {
				return nil, fmt.Errorf("trailing backslash")
			}
			i++
			e := src[i]
			switch e {
			case 'w', 'W', 'd', 'D':
				b.WriteByte('\\')
				b.WriteByte(e)
			case 'b', 'B':
				if inClass {
					return nil, fmt.Errorf("\\%c in a character class", e)
				}
				b.WriteByte('\\')
				b.WriteByte(e)
			case 's':
				if inClass {
					b.WriteString(`\t\n\v\f\r `)
				} else {
					b.WriteString(`[\t\n\v\f\r ]`)
				}
			case 'S':
				if inClass {
					return nil, fmt.Errorf("\\S in a character class")
				}
				b.WriteString(`[^\t\n\v\f\r ]`)
			case 'n':
				b.WriteString(`\n`)
			case 't':
				b.WriteString(`\t`)
			case 'r':
				b.WriteString(`\r`)
			case 'f':
				b.WriteString(`\f`)
			case 'a':
				b.WriteString(`\x07`)
			case 'x':
				if i+2 >= len(src) || !isHexDigit(src[i+1]) || !isHexDigit(src[i+2]) {
					return nil, fmt.Errorf("illegal escape sequence")
				}
				v, _ := strconv.ParseUint(src[i+1:i+3], 16, 8)
				writeLiteral(&b, byte(v))
				i += 2
			default:
				writeLiteral(&b, e)
			}
		case inClass:
			if c == ']' {
				inClass = false
				b.WriteByte(c)
			} else if c == '-' || c == '^' && src[i-1] == '[' {
				b.WriteByte(c)
			} else {
				writeLiteral(&b, c)
			}
		case c == '[':
			inClass = true
			b.WriteByte(c)
			// A ']' right after '[' or '[^' is a literal in YARA.
			if i+1 < len(src) && src[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(src) && src[i+1] == ']' {
				b.WriteString(`\]`)
				i++
			}
		case c == '{':
			// {,m} means {0,m} in YARA.
			j := strings.IndexByte(src[i:], '}')
			if j > 0 && isRepeat(src[i+1:i+j]) {
				body := src[i+1 : i+j]
				if strings.HasPrefix(body, ",") {
					body = "0" + body
				}
				b.WriteString("{" + body + "}")
				i += j
			} else {
				b.WriteString(`\{`)
			}
		case strings.IndexByte("().*+?|^$", c) >= 0:
			b.WriteByte(c)
		default:
			writeLiteral(&b, c)
		}
	}
	if inClass {
		return nil, fmt.Errorf("unterminated character class")
	}
	return regexp.Compile(b.String())
}

func isRepeat(s string) bool {
	if s == "" || s == "," {
		return false
	}
	lo, hi, comma := s, "", false
	if k := strings.IndexByte(s, ','); k >= 0 {
		lo, hi, comma = s[:k], s[k+1:], true
	}
	for _, part := range []string{lo, hi} {
		for i := 0; i < len(part); i++ {
			if !isDigit(part[i]) {
				return false
			}
		}
	}
	return lo != "" || comma && hi != ""
}

func writeLiteral(b *strings.Builder, c byte) {
	if c < 0x80 && (isLetter(c) || isDigit(c) || c == ' ' || c == '_') {
		b.WriteByte(c)
		return
	}
	fmt.Fprintf(b, `\x{%02x}`, c)
}

// latin1 maps every byte of s to the rune of the same value, the subject
// form translateRegex expects.
func latin1(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}
