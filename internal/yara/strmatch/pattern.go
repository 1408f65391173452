package strmatch

// Kind is the syntax a YARA string was written in.
type Kind uint8

const (
	Text  Kind = iota // "..."
	Hex               // { ... }
	Regex             // /.../
)

// Pattern is one YARA string definition as the rule compiler hands it over:
// text already unescaped, hex and regex bodies as written so that errors can
// point into them.
type Pattern struct {
	Kind Kind
	// Text holds the unescaped bytes of a text string.
	Text []byte
	// Hex holds the body between the braces of a hex string, as written.
	Hex string
	// Regex holds the body between the slashes, in YARA's regex syntax.
	Regex string
	// RegexNocase and RegexDotAll are the /i and /s flags.
	RegexNocase, RegexDotAll bool

	// Modifiers. Ascii is implied when Wide is not set.
	Nocase, Ascii, Wide, Fullword, Private bool
	// Xor enables the xor modifier for keys XorMin..XorMax (0..255 when
	// written without a range).
	Xor            bool
	XorMin, XorMax int
	// Base64 and Base64Wide, with an optional custom 64-byte alphabet.
	Base64, Base64Wide bool
	Base64Alphabet     string
}

// Match is one occurrence of a pattern in the scanned data.
type Match struct {
	// Pattern indexes the slice given to Compile.
	Pattern int
	Offset  int64
	Length  int
}
