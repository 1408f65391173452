package obligation

import "strings"

// iso3166 holds the officially assigned ISO 3166-1 alpha-2 codes.
var iso3166 = setOf(`AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ
VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`)

// usSubdivisions are the ISO 3166-2:US codes: states, DC and outlying areas.
var usSubdivisions = setOf(`AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD
MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
DC AS GU MP PR UM VI`)

// eea lists the states where the EU GDPR applies: the EU 27 and, through the
// EEA Agreement, Iceland, Liechtenstein and Norway.
var eea = setOf(`AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO`)

func setOf(s string) map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(s) {
		m[f] = true
	}
	return m
}

// checkResidence validates one key of "people": an ISO 3166-1 alpha-2 code,
// or an ISO 3166-2 US state code such as US-CA.
func checkResidence(code string) string {
	if c, sub, ok := strings.Cut(code, "-"); ok {
		if c != "US" {
			return "only US subdivisions (US-CA) are taken; count other countries by their ISO 3166-1 alpha-2 code"
		}
		if !usSubdivisions[sub] {
			return "not an ISO 3166-2:US code"
		}
		return ""
	}
	if !iso3166[code] {
		if iso3166[strings.ToUpper(code)] {
			return "write country codes in upper case (" + strings.ToUpper(code) + ")"
		}
		return "not an ISO 3166-1 alpha-2 country code"
	}
	return ""
}
