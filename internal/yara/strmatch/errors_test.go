package strmatch

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPatternErrors checks messages (as yara 4.2.3 words them) and the
// offsets that let the rule compiler point at file:line:col.
func TestPatternErrors(t *testing.T) {
	tests := []struct {
		p    Pattern
		want PatternError
	}{
		{Pattern{Kind: Hex, Hex: "4D 5"}, PatternError{Offset: 3, Msg: "uneven number of digits in hex string"}},
		{Pattern{Kind: Hex, Hex: "4D [5-3] 5A"}, PatternError{Offset: 3, Msg: "invalid jump range"}},
		{Pattern{Kind: Hex, Hex: "4D [0] 5A"}, PatternError{Offset: 3, Msg: "invalid jump length"}},
		{Pattern{Kind: Hex, Hex: "4D [0-]"}, PatternError{Offset: 7, Msg: "syntax error"}},
		{Pattern{Kind: Hex, Hex: " "}, PatternError{Offset: 1, Msg: "syntax error"}},
		{Pattern{Kind: Hex, Hex: "4D G1"}, PatternError{Offset: 3, Msg: "invalid character in hex string"}},
		{Pattern{Kind: Hex, Hex: "4D ( 5A | 00 [300] 00 ) 01"}, PatternError{Offset: 13, Msg: "jumps over 200 not allowed inside alternation (|)"}},
		{Pattern{Kind: Hex, Hex: "4D ( 5A | 00 [1-] 00 ) 01"}, PatternError{Offset: 13, Msg: "unbounded jumps not allowed inside alternation (|)"}},
		{Pattern{Kind: Regex, Regex: "a{0}"}, PatternError{Offset: 1, Msg: "bad repeat interval"}},
		{Pattern{Kind: Regex, Regex: "a{3,2}"}, PatternError{Offset: 1, Msg: "bad repeat interval"}},
		{Pattern{Kind: Regex, Regex: "a{,40000}"}, PatternError{Offset: 1, Msg: "repeat interval too large"}},
		{Pattern{Kind: Regex, Regex: `x\1`}, PatternError{Offset: 1, Msg: "backreferences are not allowed"}},
		{Pattern{Kind: Regex, Regex: "(ab"}, PatternError{Offset: 0, Msg: "syntax error"}},
		{Pattern{Kind: Regex, Regex: "ab)"}, PatternError{Offset: 2, Msg: "syntax error"}},
		{Pattern{Kind: Regex, Regex: "[a-"}, PatternError{Offset: 0, Msg: "missing terminating ] for character class"}},
		{Pattern{Kind: Regex, Regex: "a|*b"}, PatternError{Offset: 2, Msg: "syntax error"}},
		{Pattern{Kind: Regex, Regex: "a.*?b.*c"}, PatternError{Offset: 0, Msg: "greedy and ungreedy quantifiers can't be mixed in a regular expression"}},
		{Pattern{Kind: Text}, PatternError{Msg: "empty string"}},
	}
	for _, tt := range tests {
		_, err := Compile([]Pattern{{Kind: Text, Text: []byte("ok")}, tt.p})
		var pe *PatternError
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want a *PatternError", yaraSource(tt.p), err)
			continue
		}
		tt.want.Index = 1
		if diff := cmp.Diff(*pe, tt.want); diff != "" {
			t.Errorf("%s (-got +want):\n%s", yaraSource(tt.p), diff)
		}
	}
}
