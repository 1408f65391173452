// Package ascii owns byte-position-preserving ASCII text helpers shared by
// the detection engines, where strings.ToLower would move offsets.
package ascii

// Lower lower-cases ASCII letters only, so byte positions are kept; s is
// returned unchanged (no copy) when it has no upper-case ASCII letter.
func Lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
