package extract

// Telling legacy single-byte Western text from Japanese multi-byte text
// cannot go by the first invalid sequence: most Latin-1 text is valid
// Shift_JIS ("é" then a letter is a level-2 kanji). It goes by what the
// bytes look like under each reading:
//   - Japanese text puts its high bytes in pairs, which decode to kana and
//     level-1 kanji (Shift_JIS lead bytes 0x82–0x98, EUC-JP 0xA4–0xD8);
//   - Western text puts a single accented letter (0xC0–0xFF) between ASCII
//     letters, and never uses the C1 bytes Windows-1252 leaves undefined.

// cp1252 maps Windows-1252's 0x80–0x9F to Unicode; 0 marks the five
// undefined bytes, decoded as their C1 code points.
var cp1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// win1252 decodes one byte of Windows-1252 (which extends ISO-8859-1).
func win1252(b byte) (rune, bool) {
	if b < 0x80 || b >= 0xA0 {
		return rune(b), true
	}
	if r := cp1252[b-0x80]; r != 0 {
		return r, true
	}
	return rune(b), false
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

// charsetScore rates how much s reads like text in e: plausible
// characters count for it, invalid or implausible ones against it. Scores
// of different encodings over the same bytes compare.
func charsetScore(s []byte, e Encoding) int {
	score := 0
	switch e {
	case Windows1252:
		for i, b := range s {
			if b < 0x80 {
				continue
			}
			if _, ok := win1252(b); !ok {
				score -= 8
				continue
			}
			prev := i > 0 && isASCIILetter(s[i-1])
			next := i+1 < len(s) && isASCIILetter(s[i+1])
			switch {
			case b >= 0xC0 && b != 0xD7 && b != 0xF7 && (prev || next):
				score += 2 // an accented letter inside or at the edge of a word
			case i > 0 && s[i-1] >= 0x80 || i+1 < len(s) && s[i+1] >= 0x80:
				score -= 2 // high bytes in a row: multi-byte text
			}
		}
		return score
	case ShiftJIS, EUCJP:
		var st uint8
		for o := 0; o < len(s); {
			r, n, st2, ok := step(s, o, e, st)
			st = st2
			switch {
			case !ok:
				score -= 8
			case n == 1 && r >= 0xFF61 && r <= 0xFF9F:
				// Half-width katakana: rare today, and what single
				// Latin letters look like in Shift_JIS.
				score--
			case n >= 2:
				score += jpWeight(s[o], e, r)
			}
			o += n
		}
		return score
	case UTF8:
		for o := 0; o < len(s); {
			if s[o] < 0x80 {
				o++
				continue
			}
			_, n, _, ok := step(s, o, UTF8, 0)
			if ok {
				score += 3
			} else {
				score -= 8
			}
			o += n
		}
	}
	return score
}

// jpWeight rates a decoded double-byte character: kana and level-1 kanji,
// which all Japanese text is made of, for; level-2 kanji, which Western
// bytes decode to, against.
func jpWeight(lead byte, e Encoding, r rune) int {
	switch {
	case r >= 0x3041 && r <= 0x30FF, r >= 0x3000 && r <= 0x3003, r >= 0xFF01 && r <= 0xFF5E:
		return 3
	case e == ShiftJIS && lead >= 0x88 && lead <= 0x98, e == EUCJP && lead >= 0xB0 && lead <= 0xCF:
		return 2
	}
	return -1
}

// detectLegacy chooses among the encodings that non-UTF-8 bytes without a
// BOM or NULs may be in.
func detectLegacy(s []byte) Encoding {
	best, bestScore := UTF8, 0
	for i, e := range []Encoding{ShiftJIS, EUCJP, Windows1252, UTF8} {
		if sc := charsetScore(s, e); i == 0 || sc > bestScore {
			best, bestScore = e, sc
		}
	}
	if bestScore <= 0 {
		// Nothing reads as text: a few stray bytes in ASCII are
		// replaced, not a reason to read the rest in another charset.
		return UTF8
	}
	return best
}

// fits reports whether bytes declared to be in e read as e at least as
// well as in the detector's choice; a wrong declaration (a Shift_JIS
// message labelled UTF-8) is the commonest way mail garbles.
func fits(s []byte, e Encoding) (Encoding, bool) {
	if e == UTF16LE || e == UTF16BE || e == ISO2022JP {
		return e, true
	}
	if len(s) > 64<<10 {
		s = s[:64<<10]
	}
	if e == UTF8 && validUTF8Prefix(s, false) {
		return e, true
	}
	d := detectLegacy(s)
	if d == e || charsetScore(s, e) >= charsetScore(s, d) {
		return e, true
	}
	return d, false
}
