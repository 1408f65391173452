package pii

// luhn reports whether the digit string d passes the Luhn check.
func luhn(d []byte) bool {
	sum, double := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}

func prefixNum(d []byte, n int) int {
	v := 0
	for i := 0; i < n && i < len(d); i++ {
		v = v*10 + int(d[i]-'0')
	}
	return v
}

// cardIssuer returns the brand whose issuer identification number range
// and length d fits, or "" when none does: Visa 13/16/19, Mastercard
// 51–55 and 2221–2720, American Express 34/37, Discover 6011, 644–649 and
// 65, JCB 3528–3589 (and the legacy 15-digit 1800 and 2131), Diners Club
// 300–305, 36, 38, 39, UnionPay 62, Maestro 12–19 digits.
func cardIssuer(d []byte) string {
	n := len(d)
	p2, p3, p4, p6 := prefixNum(d, 2), prefixNum(d, 3), prefixNum(d, 4), prefixNum(d, 6)
	switch {
	case d[0] == '4' && (n == 13 || n == 16 || n == 19):
		return "visa"
	case (p2 >= 51 && p2 <= 55 || p4 >= 2221 && p4 <= 2720) && n == 16:
		return "mastercard"
	case (p2 == 34 || p2 == 37) && n == 15:
		return "amex"
	case (p4 == 6011 || p3 >= 644 && p3 <= 649 || p2 == 65 || p6 >= 622126 && p6 <= 622925) && n >= 16 && n <= 19:
		return "discover"
	case p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19:
		return "jcb"
	case (p4 == 1800 || p4 == 2131) && n == 15:
		return "jcb"
	case (p3 >= 300 && p3 <= 305 || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14 && n <= 19:
		return "diners"
	case p2 == 62 && n >= 16 && n <= 19:
		return "unionpay"
	case (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759 ||
		p4 >= 6761 && p4 <= 6763 || p2 == 50 || p2 >= 56 && p2 <= 58 || p2 == 67) && n >= 12 && n <= 19:
		return "maestro"
	}
	return ""
}

// validCardGrouping accepts the ways card numbers are printed: contiguous,
// or groups joined by one kind of separator, either the brand's layout
// (4-6-5, 4-6-4) or fours with a shorter last group.
func validCardGrouping(lens []int, kinds []byte) bool {
	if len(lens) == 1 {
		return true
	}
	for _, k := range kinds {
		if k != kinds[0] || k == sepParen {
			return false
		}
	}
	if len(lens) == 3 && lens[0] == 4 && lens[1] == 6 && (lens[2] == 5 || lens[2] == 4) {
		return true
	}
	for i, l := range lens {
		if i < len(lens)-1 && l != 4 || i == len(lens)-1 && (l < 1 || l > 4) {
			return false
		}
	}
	return true
}

// myNumberValid checks the Individual Number check digit: with P(n) the
// n-th digit counting leftwards from the one before the check digit and
// Q(n) = n+1 for n <= 6, n-5 above, the check digit is 11 - sum(P*Q) mod 11,
// or 0 when the remainder is 0 or 1.
func myNumberValid(d []byte) bool {
	if len(d) != 12 {
		return false
	}
	sum := 0
	for n := 1; n <= 11; n++ {
		p := int(d[11-n] - '0')
		q := n + 1
		if n >= 7 {
			q = n - 5
		}
		sum += p * q
	}
	r := sum % 11
	check := 0
	if r > 1 {
		check = 11 - r
	}
	return int(d[11]-'0') == check
}

// jpNational classifies a Japanese national number (leading 0) by the
// numbering plan: 11 digits for mobile, IP and 0800, 10 for landlines and
// 0120/0570/0990.
func jpNational(d []byte) (mobileLike, landline, special bool) {
	n := len(d)
	if n < 10 || n > 11 || d[0] != '0' || d[1] == '0' {
		return
	}
	p3 := string(d[:3])
	p4 := string(d[:4])
	switch n {
	case 11:
		switch {
		case p4 == "0800":
			// Free dial, but generated and mistyped mobile numbers
			// (080-0xxx-xxxx) look the same: accept either grouping.
			return true, false, true
		case p3 == "070" || p3 == "080" || p3 == "090" || p3 == "050":
			return true, false, false
		}
	case 10:
		switch {
		case p4 == "0120" || p4 == "0570" || p4 == "0990":
			return false, false, true
		case d[2] == '0' && d[1] >= '2':
			// 020, 030 … 090 prefixes are 11-digit services or unassigned.
			return
		}
		return false, true, false
	}
	return
}

// validJPPhone checks a national number and how it was grouped.
func validJPPhone(d []byte, lens []int) bool {
	mobile, land, special := jpNational(d)
	if mobile && len(lens) == 3 && lens[0] == 3 && lens[1] == 4 && lens[2] == 4 {
		return true
	}
	switch {
	case mobile && len(lens) == 1:
		return true
	case special:
		switch len(lens) {
		case 1:
			return true
		case 3:
			return lens[0] == 4 && (lens[1] == 3 || lens[1] == 2) && (lens[2] == 3 || lens[2] == 4)
		}
	case land:
		switch len(lens) {
		case 1:
			return true
		case 2:
			return lens[0] >= 2 && lens[0] <= 5
		case 3:
			return lens[0] >= 2 && lens[0] <= 5 && lens[1] >= 1 && lens[1] <= 4 && lens[2] == 4
		}
	}
	return false
}
