package yara

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tKeyword
	tStrID       // $name
	tStrIDWild   // $name*
	tStrCount    // #name
	tStrOffset   // @name
	tStrLength   // !name
	tIntFunc     // int8 ... uint32be
	tNumber      // integer literal
	tDouble      // float literal
	tText        // "..."
	tRegex       // /.../is
	tHex         // { ... }
	tPunct       // one of the operators below, in tok.text
	tIncludeText // include "path": text holds the path
)

// token is one lexeme. text is the keyword, identifier or operator as
// written; for literals the decoded value is in the typed fields.
type token struct {
	kind tokKind
	text string
	pos  Pos
	// offset of the token in the source, to point into hex bodies.
	off int
	i   int64
	f   float64
	// str is the decoded text string, regex body or hex body.
	str                string
	reNocase, reDotAll bool
}

// Pos is a 1-based line and column (in bytes) in a source file.
type Pos struct{ Line, Col int }

var keywords = map[string]bool{
	"all": true, "and": true, "any": true, "ascii": true, "at": true,
	"base64": true, "base64wide": true, "condition": true, "contains": true,
	"defined": true, "endswith": true, "entrypoint": true, "false": true,
	"filesize": true, "for": true, "fullword": true, "global": true,
	"icontains": true, "iendswith": true, "iequals": true, "import": true,
	"in": true, "istartswith": true, "matches": true, "meta": true,
	"nocase": true, "none": true, "not": true, "of": true, "or": true,
	"private": true, "rule": true, "startswith": true, "strings": true,
	"them": true, "true": true, "wide": true, "xor": true,
}

var intFuncs = map[string]bool{
	"int8": true, "int16": true, "int32": true, "uint8": true, "uint16": true, "uint32": true,
	"int8be": true, "int16be": true, "int32be": true, "uint8be": true, "uint16be": true, "uint32be": true,
}

// lexer splits one source text into tokens the way libyara's flex lexer
// does: "/" always starts a regular expression (division is "\") and "{"
// starts a hex string when what follows can be one.
type lexer struct {
	file string
	src  string
	off  int
	line int
	// lineStart is the offset of the current line's first byte.
	lineStart int
}

func newLexer(file, src string) *lexer {
	return &lexer{file: file, src: src, line: 1}
}

func (l *lexer) errAt(p Pos, format string, args ...any) *Error {
	return &Error{File: l.file, Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) pos() Pos { return Pos{l.line, l.off - l.lineStart + 1} }

// posAt returns the position of offset off, which must not precede the
// start of the current line's token being lexed.
func (l *lexer) posAt(off int) Pos {
	line, start := 1, 0
	for i := 0; i < off && i < len(l.src); i++ {
		if l.src[i] == '\n' {
			line++
			start = i + 1
		}
	}
	return Pos{line, off - start + 1}
}

func (l *lexer) advance(n int) {
	for i := 0; i < n && l.off < len(l.src); i++ {
		if l.src[l.off] == '\n' {
			l.line++
			l.lineStart = l.off + 1
		}
		l.off++
	}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isHexDigit(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
func isIdentChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

// skipSpace skips whitespace and comments.
func (l *lexer) skipSpace() *Error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance(1)
		case strings.HasPrefix(l.src[l.off:], "//"):
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.off++
			}
		case strings.HasPrefix(l.src[l.off:], "/*"):
			end := strings.Index(l.src[l.off+2:], "*/")
			if end < 0 {
				// An unterminated comment runs to the end of the file, as in flex.
				l.advance(len(l.src) - l.off)
				return nil
			}
			l.advance(end + 4)
		default:
			return nil
		}
	}
	return nil
}

// next returns the next token.
func (l *lexer) next() (token, *Error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	p := l.pos()
	start := l.off
	tok := token{pos: p, off: start}
	if l.off >= len(l.src) {
		tok.kind = tEOF
		return tok, nil
	}
	c := l.src[l.off]
	rest := l.src[l.off:]
	switch {
	case c == '"':
		s, err := l.textString()
		if err != nil {
			return tok, err
		}
		tok.kind, tok.str = tText, s
		tok.text = l.src[start:l.off]
		return tok, nil
	case c == '/':
		return l.regex(tok)
	case c == '{':
		if n := hexStringLen(rest); n > 0 {
			tok.kind = tHex
			tok.str = rest[1 : n-1]
			tok.off = start + 1
			tok.text = rest[:n]
			l.advance(n)
			return tok, nil
		}
		l.advance(1)
		tok.kind, tok.text = tPunct, "{"
		return tok, nil
	case c == '$' || c == '#' || c == '@' || c == '!':
		n := 1
		for n < len(rest) && isIdentChar(rest[n]) {
			n++
		}
		if c == '!' && n == 1 && strings.HasPrefix(rest, "!=") {
			l.advance(2)
			tok.kind, tok.text = tPunct, "!="
			return tok, nil
		}
		tok.text = "$" + rest[1:n]
		switch c {
		case '$':
			tok.kind = tStrID
			if n < len(rest) && rest[n] == '*' {
				tok.kind = tStrIDWild
				tok.text += "*"
				n++
			}
		case '#':
			tok.kind = tStrCount
		case '@':
			tok.kind = tStrOffset
		case '!':
			tok.kind = tStrLength
		}
		l.advance(n)
		return tok, nil
	case isLetter(c) || c == '_':
		n := 1
		for n < len(rest) && isIdentChar(rest[n]) {
			n++
		}
		word := rest[:n]
		if word == "include" {
			// libyara's lexer recognises include only when followed by
			// blanks and a quote.
			m := n
			for m < len(rest) && (rest[m] == ' ' || rest[m] == '\t') {
				m++
			}
			if m > n && m < len(rest) && rest[m] == '"' {
				l.advance(m)
				s, err := l.textString()
				if err != nil {
					return tok, err
				}
				tok.kind, tok.str, tok.text = tIncludeText, s, "include"
				return tok, nil
			}
		}
		l.advance(n)
		tok.text = word
		switch {
		case keywords[word]:
			tok.kind = tKeyword
		case intFuncs[word]:
			tok.kind = tIntFunc
		default:
			if len(word) > 128 {
				return tok, l.errAt(p, "identifier too long")
			}
			tok.kind = tIdent
		}
		return tok, nil
	case isDigit(c):
		return l.number(tok)
	}
	for _, op := range []string{"..", "<=", ">=", "==", "!=", "<<", ">>"} {
		if strings.HasPrefix(rest, op) {
			l.advance(2)
			tok.kind, tok.text = tPunct, op
			return tok, nil
		}
	}
	if c >= 32 && c < 127 {
		l.advance(1)
		tok.kind, tok.text = tPunct, string(c)
		return tok, nil
	}
	return tok, l.errAt(p, "non-ascii character")
}

func (l *lexer) number(tok token) (token, *Error) {
	rest := l.src[l.off:]
	n := 0
	switch {
	case len(rest) > 2 && rest[0] == '0' && rest[1] == 'x' && isHexDigit(rest[2]):
		n = 2
		for n < len(rest) && isHexDigit(rest[n]) {
			n++
		}
		v, err := strconv.ParseInt(rest[2:n], 16, 64)
		if err != nil {
			return tok, l.errAt(tok.pos, "integer overflow in %q", rest[:n])
		}
		tok.i = v
	case len(rest) > 2 && rest[0] == '0' && rest[1] == 'o' && rest[2] >= '0' && rest[2] <= '7':
		n = 2
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '7' {
			n++
		}
		v, err := strconv.ParseInt(rest[2:n], 8, 64)
		if err != nil {
			return tok, l.errAt(tok.pos, "integer overflow in %q", rest[:n])
		}
		tok.i = v
	default:
		for n < len(rest) && isDigit(rest[n]) {
			n++
		}
		if n+1 < len(rest) && rest[n] == '.' && isDigit(rest[n+1]) {
			m := n + 1
			for m < len(rest) && isDigit(rest[m]) {
				m++
			}
			f, _ := strconv.ParseFloat(rest[:m], 64)
			tok.kind, tok.f, tok.text = tDouble, f, rest[:m]
			l.advance(m)
			return tok, nil
		}
		v, err := strconv.ParseInt(rest[:n], 10, 64)
		if err != nil {
			return tok, l.errAt(tok.pos, "integer overflow in %q", rest[:n])
		}
		mult := int64(1)
		if strings.HasPrefix(rest[n:], "KB") {
			mult = 1024
		} else if strings.HasPrefix(rest[n:], "MB") {
			mult = 1 << 20
		}
		if mult > 1 {
			if v > math.MaxInt64/mult {
				return tok, l.errAt(tok.pos, "integer overflow in %q", rest[:n+2])
			}
			v *= mult
			n += 2
		}
		tok.i = v
	}
	tok.kind, tok.text = tNumber, rest[:n]
	l.advance(n)
	return tok, nil
}

// textString lexes a double-quoted string at l.off and returns its decoded
// bytes.
func (l *lexer) textString() (string, *Error) {
	start := l.pos()
	l.advance(1)
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return "", l.errAt(start, "unterminated string")
		}
		c := l.src[l.off]
		switch c {
		case '"':
			l.advance(1)
			return b.String(), nil
		case '\n':
			return "", l.errAt(l.pos(), "unterminated string")
		case '\\':
			p := l.pos()
			if l.off+1 >= len(l.src) {
				return "", l.errAt(p, "illegal escape sequence")
			}
			switch e := l.src[l.off+1]; e {
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'n':
				b.WriteByte('\n')
			case '"':
				b.WriteByte('"')
			case '\\':
				b.WriteByte('\\')
			case 'x':
				if l.off+3 < len(l.src) && isHexDigit(l.src[l.off+2]) && isHexDigit(l.src[l.off+3]) {
					v, _ := strconv.ParseUint(l.src[l.off+2:l.off+4], 16, 8)
					b.WriteByte(byte(v))
					l.advance(4)
					continue
				}
				return "", l.errAt(p, "illegal escape sequence")
			default:
				return "", l.errAt(p, "illegal escape sequence")
			}
			l.advance(2)
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

func (l *lexer) regex(tok token) (token, *Error) {
	l.advance(1)
	tok.off = l.off
	var b strings.Builder
	for {
		if l.off >= len(l.src) || l.src[l.off] == '\n' {
			return tok, l.errAt(l.pos(), "unterminated regular expression")
		}
		c := l.src[l.off]
		switch c {
		case '/':
			l.advance(1)
			if l.off < len(l.src) && l.src[l.off] == 'i' {
				tok.reNocase = true
				l.advance(1)
			}
			if l.off < len(l.src) && l.src[l.off] == 's' {
				tok.reDotAll = true
				l.advance(1)
			}
			if b.Len() == 0 {
				return tok, l.errAt(tok.pos, "empty regular expression")
			}
			tok.kind, tok.str = tRegex, b.String()
			tok.text = "/" + tok.str + "/"
			return tok, nil
		case '\\':
			if l.off+1 >= len(l.src) || l.src[l.off+1] == '\n' {
				return tok, l.errAt(l.pos(), "malformed regular expression")
			}
			if l.src[l.off+1] == '/' {
				b.WriteByte('/')
			} else {
				b.WriteString(l.src[l.off : l.off+2])
			}
			l.advance(2)
		default:
			b.WriteByte(c)
			l.advance(1)
		}
	}
}

// hexStringLen returns the length of the hex string at the start of s
// (which begins with '{') including both braces, or 0 when libyara's lexer
// would not see a hex string there.
func hexStringLen(s string) int {
	i := 1
	content := false
	for i < len(s) {
		c := s[i]
		switch {
		case c == '}':
			if !content {
				return 0
			}
			return i + 1
		case isHexDigit(c) || strings.IndexByte(" -|?[]()\n\r\t", c) >= 0:
			i++
			content = true
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return 0
			}
			i += end + 4
			content = true
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			content = true
		default:
			return 0
		}
	}
	return 0
}
