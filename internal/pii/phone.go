package pii

import "strings"

// plan is one country's national significant number (NSN) lengths in the
// E.164 numbering plan.
type plan struct {
	iso      string
	min, max int
}

// plans maps country calling codes to their national significant number
// lengths, summarised from the national numbering plans countries file
// with the ITU-T (E.164 and its annex of national plans). Where a country
// has short service numbers only subscriber lengths are kept.
var plans = map[string]plan{
	"1": {"US", 10, 10}, "7": {"RU", 10, 10},
	"20": {"EG", 8, 10}, "27": {"ZA", 9, 9}, "30": {"GR", 10, 10}, "31": {"NL", 9, 9}, "32": {"BE", 8, 9},
	"33": {"FR", 9, 9}, "34": {"ES", 9, 9}, "36": {"HU", 8, 9}, "39": {"IT", 6, 11}, "40": {"RO", 9, 9},
	"41": {"CH", 9, 9}, "43": {"AT", 7, 13}, "44": {"GB", 9, 10}, "45": {"DK", 8, 8}, "46": {"SE", 7, 10},
	"47": {"NO", 8, 8}, "48": {"PL", 9, 9}, "49": {"DE", 7, 13}, "51": {"PE", 8, 9}, "52": {"MX", 10, 10},
	"53": {"CU", 6, 8}, "54": {"AR", 10, 11}, "55": {"BR", 10, 11}, "56": {"CL", 9, 9}, "57": {"CO", 8, 10},
	"58": {"VE", 10, 10}, "60": {"MY", 8, 10}, "61": {"AU", 9, 9}, "62": {"ID", 8, 12}, "63": {"PH", 8, 10},
	"64": {"NZ", 8, 10}, "65": {"SG", 8, 8}, "66": {"TH", 8, 9}, "81": {"JP", 9, 10}, "82": {"KR", 8, 10},
	"84": {"VN", 9, 10}, "86": {"CN", 10, 11}, "90": {"TR", 10, 10}, "91": {"IN", 10, 10}, "92": {"PK", 9, 10},
	"93": {"AF", 9, 9}, "94": {"LK", 9, 9}, "95": {"MM", 7, 10}, "98": {"IR", 10, 10},
	"211": {"SS", 9, 9}, "212": {"MA", 9, 9}, "213": {"DZ", 8, 9}, "216": {"TN", 8, 8}, "218": {"LY", 8, 9},
	"220": {"GM", 7, 7}, "221": {"SN", 9, 9}, "222": {"MR", 8, 8}, "223": {"ML", 8, 8}, "224": {"GN", 8, 9},
	"225": {"CI", 8, 10}, "226": {"BF", 8, 8}, "227": {"NE", 8, 8}, "228": {"TG", 8, 8}, "229": {"BJ", 8, 10},
	"230": {"MU", 7, 8}, "231": {"LR", 7, 9}, "232": {"SL", 8, 8}, "233": {"GH", 9, 9}, "234": {"NG", 8, 10},
	"235": {"TD", 8, 8}, "236": {"CF", 8, 8}, "237": {"CM", 9, 9}, "238": {"CV", 7, 7}, "239": {"ST", 7, 7},
	"240": {"GQ", 9, 9}, "241": {"GA", 7, 8}, "242": {"CG", 9, 9}, "243": {"CD", 9, 9}, "244": {"AO", 9, 9},
	"245": {"GW", 7, 9}, "246": {"IO", 7, 7}, "248": {"SC", 7, 7}, "249": {"SD", 9, 9}, "250": {"RW", 9, 9},
	"251": {"ET", 9, 9}, "252": {"SO", 7, 9}, "253": {"DJ", 8, 8}, "254": {"KE", 9, 10}, "255": {"TZ", 9, 9},
	"256": {"UG", 9, 9}, "257": {"BI", 8, 8}, "258": {"MZ", 8, 9}, "260": {"ZM", 9, 9}, "261": {"MG", 9, 9},
	"262": {"RE", 9, 9}, "263": {"ZW", 9, 10}, "264": {"NA", 8, 9}, "265": {"MW", 7, 9}, "266": {"LS", 8, 8},
	"267": {"BW", 7, 8}, "268": {"SZ", 8, 8}, "269": {"KM", 7, 7}, "290": {"SH", 4, 5}, "291": {"ER", 7, 7},
	"297": {"AW", 7, 7}, "298": {"FO", 6, 6}, "299": {"GL", 6, 6},
	"350": {"GI", 8, 8}, "351": {"PT", 9, 9}, "352": {"LU", 4, 11}, "353": {"IE", 7, 9}, "354": {"IS", 7, 9},
	"355": {"AL", 8, 9}, "356": {"MT", 8, 8}, "357": {"CY", 8, 8}, "358": {"FI", 5, 12}, "359": {"BG", 7, 9},
	"370": {"LT", 8, 8}, "371": {"LV", 8, 8}, "372": {"EE", 7, 8}, "373": {"MD", 8, 8}, "374": {"AM", 8, 8},
	"375": {"BY", 9, 9}, "376": {"AD", 6, 9}, "377": {"MC", 8, 9}, "378": {"SM", 6, 10}, "380": {"UA", 9, 9},
	"381": {"RS", 8, 9}, "382": {"ME", 8, 8}, "383": {"XK", 8, 8}, "385": {"HR", 8, 9}, "386": {"SI", 8, 8},
	"387": {"BA", 8, 8}, "389": {"MK", 8, 8}, "420": {"CZ", 9, 9}, "421": {"SK", 9, 9}, "423": {"LI", 7, 9},
	"500": {"FK", 5, 5}, "501": {"BZ", 7, 7}, "502": {"GT", 8, 8}, "503": {"SV", 8, 8}, "504": {"HN", 8, 8},
	"505": {"NI", 8, 8}, "506": {"CR", 8, 8}, "507": {"PA", 7, 8}, "508": {"PM", 6, 6}, "509": {"HT", 8, 8},
	"590": {"GP", 9, 9}, "591": {"BO", 8, 8}, "592": {"GY", 7, 7}, "593": {"EC", 8, 9}, "594": {"GF", 9, 9},
	"595": {"PY", 9, 9}, "596": {"MQ", 9, 9}, "597": {"SR", 6, 7}, "598": {"UY", 8, 8}, "599": {"CW", 7, 7},
	"670": {"TL", 7, 8}, "672": {"NF", 6, 6}, "673": {"BN", 7, 7}, "674": {"NR", 7, 7}, "675": {"PG", 7, 8},
	"676": {"TO", 5, 7}, "677": {"SB", 5, 7}, "678": {"VU", 5, 7}, "679": {"FJ", 7, 7}, "680": {"PW", 7, 7},
	"681": {"WF", 6, 6}, "682": {"CK", 5, 5}, "683": {"NU", 4, 4}, "685": {"WS", 5, 7}, "686": {"KI", 5, 8},
	"687": {"NC", 6, 6}, "688": {"TV", 5, 6}, "689": {"PF", 8, 8}, "690": {"TK", 4, 4}, "691": {"FM", 7, 7},
	"692": {"MH", 7, 7},
	"850": {"KP", 8, 10}, "852": {"HK", 8, 8}, "853": {"MO", 8, 8}, "855": {"KH", 8, 9}, "856": {"LA", 8, 10},
	"880": {"BD", 10, 10}, "886": {"TW", 8, 9},
	"960": {"MV", 7, 7}, "961": {"LB", 7, 8}, "962": {"JO", 8, 9}, "963": {"SY", 8, 9}, "964": {"IQ", 8, 10},
	"965": {"KW", 8, 8}, "966": {"SA", 8, 9}, "967": {"YE", 7, 9}, "968": {"OM", 8, 8}, "970": {"PS", 8, 9},
	"971": {"AE", 8, 9}, "972": {"IL", 8, 9}, "973": {"BH", 8, 8}, "974": {"QA", 8, 8}, "975": {"BT", 7, 8},
	"976": {"MN", 8, 8}, "977": {"NP", 8, 10}, "992": {"TJ", 9, 9}, "993": {"TM", 8, 8}, "994": {"AZ", 9, 9},
	"995": {"GE", 9, 9}, "996": {"KG", 9, 9}, "998": {"UZ", 9, 9},
}

// e164 returns the country of an international number (digits after the
// '+') when its country code exists and its national number has one of
// the country's lengths, "" otherwise.
func e164(d []byte) string {
	for cc := 1; cc <= 3 && cc < len(d); cc++ {
		p, ok := plans[string(d[:cc])]
		if !ok {
			continue
		}
		nsn := d[cc:]
		if len(nsn) > 0 && nsn[0] == '0' && p.iso != "IT" {
			nsn = nsn[1:] // the trunk prefix written as "+44 (0)20 …"
		}
		if len(nsn) < p.min || len(nsn) > p.max || len(nsn) > 0 && nsn[0] == '0' && p.iso != "IT" {
			return ""
		}
		switch p.iso {
		case "US":
			return nanpCountry(nsn)
		case "JP":
			nat := append([]byte{'0'}, nsn...)
			if m, l, s := jpNational(nat); !m && !l && !s {
				return ""
			}
		case "CN":
			if len(nsn) == 11 && !(nsn[0] == '1' && nsn[1] >= '3') {
				return ""
			}
		case "GB":
			if nsn[0] != '1' && nsn[0] != '2' && nsn[0] != '3' && nsn[0] != '7' && nsn[0] != '8' && nsn[0] != '9' {
				return ""
			}
		}
		return p.iso
	}
	return ""
}

// canadianAreas are the NANP area codes in Canada, for reporting only.
var canadianAreas = map[string]bool{"204": true, "226": true, "236": true, "249": true, "250": true, "263": true,
	"289": true, "306": true, "343": true, "354": true, "365": true, "367": true, "368": true, "382": true,
	"403": true, "416": true, "418": true, "428": true, "431": true, "437": true, "438": true, "450": true,
	"468": true, "474": true, "506": true, "514": true, "519": true, "548": true, "579": true, "581": true,
	"584": true, "587": true, "604": true, "613": true, "639": true, "647": true, "672": true, "683": true,
	"705": true, "709": true, "742": true, "753": true, "778": true, "780": true, "782": true, "807": true,
	"819": true, "825": true, "867": true, "873": true, "879": true, "902": true, "905": true}

// nanpCountry checks a 10-digit NANP number (area code, exchange, line):
// area and exchange codes start with 2–9 and are not N11 service codes;
// area codes with a middle 9 are reserved for expansion. It returns "US"
// or "CA", or "" for an invalid number.
func nanpCountry(d []byte) string {
	if len(d) != 10 || d[0] < '2' || d[3] < '2' || d[1] == '9' ||
		d[1] == '1' && d[2] == '1' || d[4] == '1' && d[5] == '1' {
		return ""
	}
	if canadianAreas[string(d[:3])] {
		return "CA"
	}
	return "US"
}

// coordinate reports an ISO 6709 latitude and longitude such as the tz
// database's "+3540+13942" or "+2048-10515": a signed run of 4 or 6 digits
// glued to a signed run of 5 or 7.
func coordinate(t string, r *numRun) bool {
	if !r.plus || r.n < 1 {
		return false
	}
	lat := r.ge[0] - r.gs[0]
	if lat != 4 && lat != 6 {
		return false
	}
	e := r.ge[0]
	if e < len(t) && t[e] == '+' {
		return true // the longitude's '+' ends the run
	}
	return r.n >= 2 && r.gs[1] == e+1 && t[e] == '-' && r.ge[1]-r.gs[1] == lat+1
}

// domesticCountry recognises a national number written the way one
// country prints its numbers, with its grouping: the shape says which
// country, and the whole candidate must be the number.
func domesticCountry(d []byte, lens []int, kinds []byte) string {
	n := len(d)
	g := len(lens)
	switch {
	case n == 10 && (g == 3 && lens[0] == 3 && lens[1] == 3 || g == 2 && lens[0] == 3 && lens[1] == 7 && kinds[0] == sepParen):
		// (212) 555-0123, 212-555-0123, 212.555.0123
		return nanpCountry(d)
	case n == 11 && d[0] == '1' && g == 4 && lens[0] == 1 && lens[1] == 3 && lens[2] == 3:
		return nanpCountry(d[1:])
	case d[0] != '0':
		if n == 11 && d[1] >= '3' && d[0] == '1' && g == 3 && lens[0] == 3 && lens[1] == 4 {
			return "CN" // 138 0013 8000
		}
		return ""
	case n == 11 && d[1] == '1' && d[2] == '0' && g == 3 && lens[0] == 3:
		return "KR" // 010-1234-5678
	case n == 11 && d[1] >= '3' && d[1] <= '6' && g == 3 && lens[0] == 3 && lens[1] == 4:
		return "KR" // 031-1234-5678
	case (n == 9 || n == 10) && d[1] == '2' && g == 3 && lens[0] == 2 && lens[2] == 4:
		return "KR" // 02-312-3456, 02-3123-4567
	case n == 10 && g == 5 && lens[0] == 2 && lens[1] == 2 && lens[2] == 2 && d[1] != '0':
		return "FR" // 01 23 45 67 89
	case n == 10 && g == 3 && lens[0] == 4 && lens[1] == 3 && lens[2] == 3 && d[1] == '4':
		return "AU" // 0412 345 678
	case n == 10 && g == 3 && lens[0] == 4 && lens[1] == 3 && lens[2] == 3 && d[1] == '9':
		return "TW" // 0912 345 678
	case n == 10 && g == 3 && lens[0] == 2 && lens[1] == 4 && lens[2] == 4 && (d[1] == '2' || d[1] == '3' || d[1] == '7' || d[1] == '8'):
		return "AU" // (02) 1234 5678
	case (n == 10 || n == 11) && strings.IndexByte("123589", d[1]) >= 0 &&
		(g == 2 && lens[0] >= 4 && lens[0] <= 5 || g == 3 && lens[0] >= 3 && lens[0] <= 5):
		return "GB" // 020 7946 0958, 01632 960001, 0161 496 0000, 0808 157 0123
	case n == 11 && d[1] == '7' && (g == 2 || g == 3) && lens[0] == 5:
		return "GB" // 07700 900123, 07700 900 123
	case (n == 11 || n == 12) && g == 2 && (lens[0] == 3 || lens[0] == 4) && lens[1] >= 7 && d[1] != '1':
		return "CN" // 010-12345678, 0755-12345678
	case n >= 10 && n <= 12 && g == 2 && lens[0] >= 3 && lens[0] <= 5 && d[1] >= '2':
		return "DE" // 030 12345678, 0151 12345678
	case n == 10 && g == 3 && lens[0] == 2 && lens[1] >= 3 && lens[2] == 4 && d[1] == '2':
		return "KR" // 02-123-4567 does not fit Japan's plan
	}
	return ""
}

// shortDomestic recognises 8-digit numbers of Singapore and Hong Kong,
// which only a phone keyword tells from other numbers.
func shortDomestic(d []byte, lens []int) string {
	if len(d) != 8 || len(lens) > 2 || len(lens) == 2 && lens[0] != 4 || len(lens) == 1 && compactDate(d) {
		return ""
	}
	switch d[0] {
	case '6', '8', '9':
		return "SG"
	case '2', '3', '5':
		return "HK"
	}
	return ""
}

// compactDate reports a YYYYMMDD date of the last two centuries.
func compactDate(d []byte) bool {
	if len(d) != 8 || !(d[0] == '1' && d[1] == '9' || d[0] == '2' && d[1] == '0') {
		return false
	}
	m := int(d[4]-'0')*10 + int(d[5]-'0')
	day := int(d[6]-'0')*10 + int(d[7]-'0')
	return m >= 1 && m <= 12 && day >= 1 && day <= 31
}
