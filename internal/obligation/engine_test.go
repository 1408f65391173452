package obligation

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// facts builds a facts document from a base and the fields a case sets,
// through DecodeFacts, as the command reads it.
func facts(t *testing.T, set string) Facts {
	t.Helper()
	doc := map[string]any{
		"aware_at": "2026-03-02T10:00:00+09:00", "cause": "misconfiguration", "wrongful_purpose": nil,
		"status": "confirmed", "encrypted": false, "in_acquisition": false,
		"categories": []string{"person_name", "email"}, "people": map[string]int{"JP": 1},
		"special_care": nil, "financial_damage_risk": nil, "assessment_concluded_at": nil,
	}
	var over map[string]any
	if err := json.Unmarshal([]byte(set), &over); err != nil {
		t.Fatalf("case facts %s: %v", set, err)
	}
	for k, v := range over {
		doc[k] = v
	}
	b, _ := json.Marshal(doc)
	f, err := DecodeFacts(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("facts %s: %v", b, err)
	}
	return f
}

// summary is a result in one line per duty: "LAW duty/stage due".
func summary(r Result) (duties, quiet []string) {
	for _, d := range r.Duties {
		s := d.Law + " " + d.Duty
		if d.Stage != "" {
			s += "/" + d.Stage
		}
		if d.Due != nil {
			s += " " + DueString(d)
		} else {
			s += " -"
		}
		duties = append(duties, s)
	}
	for _, n := range r.NotTriggered {
		quiet = append(quiet, n.Law)
	}
	return duties, quiet
}

func TestAssess(t *testing.T) {
	const (
		jpPre   = "JP-APPI report_regulator/preliminary 2026-03-05T23:59:59+09:00"
		jpFin30 = "JP-APPI report_regulator/final 2026-03-31T23:59:59+09:00"
		jpFin60 = "JP-APPI report_regulator/final 2026-04-30T23:59:59+09:00"
		jpInd   = "JP-APPI notify_individuals -"
	)
	cases := []struct {
		name, source, set string
		duties, quiet     []string
	}{
		// Japan, APPI. Aware 2026-03-02 (Mon) 10:00 JST unless set.
		{"APPI 1,000 people is not more than 1,000", "Rules art. 7 item 4 (千人を超える)",
			`{"people":{"JP":1000}}`, nil, []string{"JP-APPI"}},
		{"APPI 1,001 people", "Rules art. 7 item 4; art. 8(2) 30 days",
			`{"people":{"JP":1001}}`, []string{jpPre, jpFin30, jpInd}, nil},
		{"APPI special care, one person", "Rules art. 7 item 1",
			`{"cause":"misdelivery","categories":["person_name","health"]}`, []string{jpPre, jpFin30, jpInd}, nil},
		{"APPI special care set by hand", "Rules art. 7 item 1; facts special_care overrides the table",
			`{"special_care":true}`, []string{jpPre, jpFin30, jpInd}, nil},
		{"APPI credit card number alone is financial", "Rules art. 7 item 2; guideline 3-5-3-1 (クレジットカード番号)",
			`{"cause":"misdelivery","categories":["credit_card"]}`, []string{jpPre, jpFin30, jpInd}, nil},
		{"APPI bank account without credentials is not financial", "Rules art. 7 item 2; guideline 3-5-3-1",
			`{"categories":["person_name","bank_account"]}`, nil, []string{"JP-APPI"}},
		{"APPI bank account with its password is financial", "Rules art. 7 item 2; guideline 3-5-3-1 (ログインIDとパスワード)",
			`{"categories":["bank_account","password"]}`, []string{jpPre, jpFin30, jpInd}, nil},
		{"APPI financial risk ruled out by hand", "facts financial_damage_risk false overrides the table",
			`{"categories":["credit_card"],"financial_damage_risk":false}`, nil, []string{"JP-APPI"}},
		{"APPI malware, one person: 60-day final", "Rules art. 7 item 3; art. 8(2) 60 days",
			`{"cause":"malware"}`, []string{jpPre, jpFin60, jpInd}, nil},
		{"APPI insider theft, suspected", "Rules art. 7 item 3 (従業者による持ち出し; おそれ)",
			`{"cause":"insider","status":"suspected"}`, []string{jpPre, jpFin60, jpInd}, nil},
		{"APPI unauthorised access ruled not wrongful by hand", "facts wrongful_purpose false overrides the cause",
			`{"cause":"unauthorized_access","wrongful_purpose":false}`, nil, []string{"JP-APPI"}},
		{"APPI special care and wrongful purpose: 60 days", "Rules art. 8(2) (前条第三号に定めるもの: 60日)",
			`{"cause":"malware","categories":["health"]}`, []string{jpPre, jpFin60, jpInd}, nil},
		{"APPI encrypted data are exempt", "Rules art. 7 item 1 (高度な暗号化その他の…措置を講じたものを除く)",
			`{"cause":"malware","encrypted":true,"people":{"JP":5000},"categories":["credit_card","health"]}`, nil, []string{"JP-APPI"}},
		{"APPI web skimming before 2024-04-01", "Rules art. 7 item 3 before its 2023 amendment (in force 2024-04-01)",
			`{"aware_at":"2024-03-31T23:59:00+09:00","cause":"malware","in_acquisition":true,"categories":["credit_card"]}`, nil, []string{"JP-APPI"}},
		{"APPI web skimming from 2024-04-01", "Rules art. 7 item 3 as amended in force 2024-04-01",
			`{"aware_at":"2024-04-01T00:00:00+09:00","cause":"malware","in_acquisition":true,"categories":["credit_card"]}`,
			[]string{"JP-APPI report_regulator/preliminary 2024-04-04T23:59:59+09:00", "JP-APPI report_regulator/final 2024-05-30T23:59:59+09:00", jpInd}, nil},
		{"APPI 2024-04-01 boundary is a JST date", "Rules art. 7 item 3 amendment; UTC 15:30 on 31 March is 00:30 JST on 1 April",
			`{"aware_at":"2024-03-31T15:30:00Z","cause":"malware","in_acquisition":true,"categories":["credit_card"]}`,
			[]string{"JP-APPI report_regulator/preliminary 2024-04-04T23:59:59+09:00", "JP-APPI report_regulator/final 2024-05-30T23:59:59+09:00", jpInd}, nil},
		{"APPI in-acquisition data, no wrongful purpose", "Rules art. 7 items 1, 2, 4 cover only personal data",
			`{"aware_at":"2024-06-03T10:00:00+09:00","in_acquisition":true,"categories":["credit_card"],"people":{"JP":2000}}`, nil, []string{"JP-APPI"}},
		{"APPI before mandatory reporting", "Act art. 26 in force 2022-04-01",
			`{"aware_at":"2022-03-31T10:00:00+09:00","cause":"malware"}`, nil, []string{"JP-APPI"}},
		{"APPI first day of mandatory reporting", "Act art. 26 in force 2022-04-01; 60th day 2022-05-30 (Mon)",
			`{"aware_at":"2022-04-01T09:00:00+09:00","cause":"malware"}`,
			[]string{"JP-APPI report_regulator/preliminary 2022-04-04T23:59:59+09:00", "JP-APPI report_regulator/final 2022-05-30T23:59:59+09:00", jpInd}, nil},
		{"APPI 30th day on a Saturday moves to Monday", "guideline 3-5-3-4: 30th day 2026-04-04 (Sat)",
			`{"aware_at":"2026-03-06T10:00:00+09:00","people":{"JP":1500}}`,
			[]string{"JP-APPI report_regulator/preliminary 2026-03-09T23:59:59+09:00", "JP-APPI report_regulator/final 2026-04-06T23:59:59+09:00", jpInd}, nil},
		{"APPI 30th day in the year-end closure", "guideline 3-5-3-4; 行政機関の休日に関する法律 art. 1 (12/29-1/3)",
			`{"aware_at":"2026-11-30T10:00:00+09:00","people":{"JP":1500}}`,
			[]string{"JP-APPI report_regulator/preliminary 2026-12-03T23:59:59+09:00", "JP-APPI report_regulator/final 2027-01-04T23:59:59+09:00", jpInd}, nil},
		{"APPI 60th day in Golden Week", "guideline 3-5-3-4: 60th day 2026-05-04 (みどりの日); 5/5, 5/6 (振替休日) closed",
			`{"aware_at":"2026-03-06T10:00:00+09:00","cause":"malware"}`,
			[]string{"JP-APPI report_regulator/preliminary 2026-03-09T23:59:59+09:00", "JP-APPI report_regulator/final 2026-05-07T23:59:59+09:00", jpInd}, nil},
		{"APPI counts the JST day", "aware 2026-03-01T20:00Z is 2026-03-02 05:00 JST",
			`{"aware_at":"2026-03-01T20:00:00Z","cause":"malware"}`, []string{jpPre, jpFin60, jpInd}, nil},

		// GDPR.
		{"GDPR 72 hours, no high risk", "GDPR Art. 33(1) (not later than 72 hours)",
			`{"aware_at":"2026-03-02T10:00:00+01:00","people":{"DE":3}}`,
			[]string{"EU-GDPR report_regulator 2026-03-05T10:00:00+01:00"}, nil},
		{"GDPR 72 hours count hours, not days", "GDPR Art. 33(1); 72 hours from 23:30",
			`{"aware_at":"2026-03-27T23:30:00Z","people":{"FR":1}}`,
			[]string{"EU-GDPR report_regulator 2026-03-30T23:30:00Z"}, nil},
		{"GDPR health data: Art. 34 too", "GDPR Art. 9(1), 34(1)",
			`{"aware_at":"2026-03-02T10:00:00+01:00","people":{"FR":1},"categories":["person_name","health"]}`,
			[]string{"EU-GDPR report_regulator 2026-03-05T10:00:00+01:00", "EU-GDPR notify_individuals -"}, nil},
		{"GDPR encrypted", "GDPR Art. 34(3)(a); EDPB Guidelines 9/2022",
			`{"people":{"DE":300},"encrypted":true,"categories":["health"]}`, nil, []string{"EU-GDPR"}},
		{"GDPR before 2018-05-25", "GDPR Art. 99(2)",
			`{"aware_at":"2018-05-24T10:00:00Z","people":{"DE":3}}`, nil, []string{"EU-GDPR"}},
		{"UK resident in 2020: EU GDPR", "Withdrawal Agreement art. 126-127 (transition period)",
			`{"aware_at":"2020-12-01T10:00:00Z","people":{"GB":3}}`,
			[]string{"EU-GDPR report_regulator 2020-12-04T10:00:00Z"}, nil},
		{"UK resident in 2021: UK GDPR to the ICO", "UK GDPR Art. 33(1)",
			`{"aware_at":"2021-02-01T10:00:00Z","people":{"GB":3},"categories":["passport"]}`,
			[]string{"UK-GDPR report_regulator 2021-02-04T10:00:00Z", "UK-GDPR notify_individuals -"}, nil},

		// Korea.
		{"PIPA 2023: any leak, notify within 72 h; no report", "PIPA art. 34(1); Decree art. 39(1) (72시간), 40(1)",
			`{"aware_at":"2023-10-02T09:00:00+09:00","people":{"KR":10}}`,
			[]string{"KR-PIPA notify_individuals 2023-10-05T09:00:00+09:00"}, nil},
		{"PIPA 2023: hacking reported at any number", "Decree art. 40(1) item 3 (외부로부터의 불법적인 접근)",
			`{"aware_at":"2023-10-02T09:00:00+09:00","cause":"malware","people":{"KR":1}}`,
			[]string{"KR-PIPA notify_individuals 2023-10-05T09:00:00+09:00", "KR-PIPA report_regulator 2023-10-05T09:00:00+09:00"}, nil},
		{"PIPA 2023: 999 people, no report", "Decree art. 40(1) item 1 (1천명 이상)",
			`{"aware_at":"2023-10-02T09:00:00+09:00","people":{"KR":999}}`,
			[]string{"KR-PIPA notify_individuals 2023-10-05T09:00:00+09:00"}, nil},
		{"PIPA 2023: 1,000 people, report", "Decree art. 40(1) item 1 (1천명 이상)",
			`{"aware_at":"2023-10-02T09:00:00+09:00","people":{"KR":1000}}`,
			[]string{"KR-PIPA notify_individuals 2023-10-05T09:00:00+09:00", "KR-PIPA report_regulator 2023-10-05T09:00:00+09:00"}, nil},
		{"PIPA 2023: unique identifier", "Decree art. 40(1) item 2 (고유식별정보)",
			`{"aware_at":"2023-10-02T09:00:00+09:00","people":{"KR":1},"categories":["passport"]}`,
			[]string{"KR-PIPA notify_individuals 2023-10-05T09:00:00+09:00", "KR-PIPA report_regulator 2023-10-05T09:00:00+09:00"}, nil},
		{"PIPA 72 h in KST from a UTC aware time", "Decree art. 39(1), 40(1)",
			`{"aware_at":"2024-01-10T20:00:00Z","people":{"KR":1},"categories":["health"]}`,
			[]string{"KR-PIPA notify_individuals 2024-01-14T05:00:00+09:00", "KR-PIPA report_regulator 2024-01-14T05:00:00+09:00"}, nil},
		{"PIPA before 2023-09-15: hacking alone not reported", "PIPA art. 34(3) and Decree art. 39 as in force to 2023-09-14",
			`{"aware_at":"2023-09-14T09:00:00+09:00","cause":"malware","people":{"KR":10}}`,
			[]string{"KR-PIPA notify_individuals -"}, nil},
		{"PIPA before 2023-09-15: 1,000 people", "PIPA art. 34(3); Decree art. 39 as then in force (1천명 이상)",
			`{"aware_at":"2023-09-14T09:00:00+09:00","people":{"KR":1000}}`,
			[]string{"KR-PIPA notify_individuals -", "KR-PIPA report_regulator -"}, nil},

		// Singapore.
		{"PDPA 499 people: assess only", "PDPA s 26B(1)(b); Regs reg 4 (not fewer than 500); s 26C",
			`{"people":{"SG":499}}`,
			[]string{"SG-PDPA assess 2026-04-01T23:59:59+08:00"}, []string{"SG-PDPA"}},
		{"PDPA 500 people, assessed: PDPC in 3 days, no individual notice", "PDPA s 26B(1)(b), 26D(1) (3 calendar days)",
			`{"people":{"SG":500},"assessment_concluded_at":"2026-03-10T18:00:00+08:00"}`,
			[]string{"SG-PDPA report_regulator 2026-03-13T23:59:59+08:00"}, nil},
		{"PDPA 500 people, not yet assessed", "PDPA s 26C(2), 26D(1)",
			`{"people":{"SG":500}}`,
			[]string{"SG-PDPA assess 2026-04-01T23:59:59+08:00", "SG-PDPA report_regulator -"}, nil},
		{"PDPA significant harm, one person", "PDPA s 26B(1)(a), 26D(2); Regs Schedule Part 1",
			`{"people":{"SG":1},"categories":["person_name","credit_card"],"assessment_concluded_at":"2026-03-03T09:00:00+08:00"}`,
			[]string{"SG-PDPA report_regulator 2026-03-06T23:59:59+08:00", "SG-PDPA notify_individuals -"}, nil},
		{"PDPA encrypted: PDPC yes, individuals no", "PDPA s 26D(6)(b)",
			`{"people":{"SG":1},"encrypted":true,"categories":["person_name","credit_card"],"assessment_concluded_at":"2026-03-03T09:00:00+08:00"}`,
			[]string{"SG-PDPA report_regulator 2026-03-06T23:59:59+08:00"}, nil},
		{"PDPA before Part 6A", "PDPA Part 6A in force 2021-02-01",
			`{"aware_at":"2021-01-31T10:00:00+08:00","people":{"SG":900}}`, nil, []string{"SG-PDPA"}},

		// Australia.
		{"NDB suspected: assess in 30 days", "Privacy Act s 26WH(2)",
			`{"status":"suspected","people":{"AU":2},"categories":["person_name","credit_card"]}`,
			[]string{"AU-NDB assess 2026-04-01T23:59:59+11:00"}, []string{"AU-NDB"}},
		{"NDB confirmed serious harm", "Privacy Act s 26WE, 26WK, 26WL",
			`{"people":{"AU":2},"categories":["person_name","credit_card"]}`,
			[]string{"AU-NDB report_regulator -", "AU-NDB notify_individuals -"}, nil},
		{"NDB contact data only", "Privacy Act s 26WE(2) (likely to result in serious harm)",
			`{"people":{"AU":2}}`, nil, []string{"AU-NDB"}},
		{"NDB assessment deadline in AEST", "Privacy Act s 26WH(2); AEDT ends 2026-04-05",
			`{"aware_at":"2026-04-10T10:00:00+10:00","status":"suspected","people":{"AU":2}}`,
			[]string{"AU-NDB assess 2026-05-10T23:59:59+10:00"}, []string{"AU-NDB"}},

		// California.
		{"CA e-mail alone", "Civ. Code 1798.82(h)(2) needs a password or security answer",
			`{"people":{"US-CA":40},"categories":["email"]}`, nil, []string{"US-CA"}},
		{"CA e-mail with password", "Civ. Code 1798.82(h)(2)",
			`{"people":{"US-CA":40},"categories":["email","password"]}`, []string{"US-CA notify_individuals -"}, nil},
		{"CA name and SSN, 500 residents: no AG copy", "Civ. Code 1798.82(h)(1)(A), (f) (more than 500)",
			`{"people":{"US-CA":500},"categories":["person_name","ssn"]}`, []string{"US-CA notify_individuals -"}, nil},
		{"CA name and SSN, 501 residents: AG copy", "Civ. Code 1798.82(f)",
			`{"people":{"US-CA":501},"categories":["person_name","ssn"]}`,
			[]string{"US-CA notify_individuals -", "US-CA notify_other -"}, nil},
		{"CA SSN without a name", "Civ. Code 1798.82(h)(1) (name in combination with)",
			`{"people":{"US-CA":40},"categories":["ssn"]}`, nil, []string{"US-CA"}},
		{"CA encrypted, key safe", "Civ. Code 1798.82(a), (h)",
			`{"people":{"US-CA":900},"encrypted":true,"categories":["person_name","ssn"]}`, nil, []string{"US-CA"}},
		{"CA passport before AB 1130", "Civ. Code 1798.82(h)(1)(B) as amended 2020-01-01",
			`{"aware_at":"2019-06-01T10:00:00-07:00","people":{"US-CA":40},"categories":["person_name","passport"]}`, nil, []string{"US-CA"}},
		{"CA passport after AB 1130", "Civ. Code 1798.82(h)(1)(B)",
			`{"aware_at":"2020-06-01T10:00:00-07:00","people":{"US-CA":40},"categories":["person_name","passport"]}`,
			[]string{"US-CA notify_individuals -"}, nil},
		{"CA medical information", "Civ. Code 1798.82(h)(1)(D)",
			`{"people":{"US-CA":2},"categories":["person_name","health"]}`, []string{"US-CA notify_individuals -"}, nil},

		// Mixed.
		{"issue example", "issue 13; Rules art. 7 items 2-4; GDPR Art. 33-34; Civ. Code 1798.82",
			`{"cause":"malware","status":"suspected","categories":["person_name","email","credit_card"],"people":{"JP":1200,"DE":3,"US-CA":40}}`,
			[]string{jpPre, jpFin60, jpInd, "EU-GDPR report_regulator 2026-03-05T10:00:00+09:00", "EU-GDPR notify_individuals -", "US-CA notify_individuals -"}, nil},
		{"APPI counts every affected person", "Rules art. 7 item 4 (本人の数); APPI covers the business's data whatever the residence",
			`{"people":{"JP":999,"DE":2}}`,
			[]string{jpPre, jpFin30, jpInd, "EU-GDPR report_regulator 2026-03-05T10:00:00+09:00"}, nil},
		{"four countries", "Rules art. 7 item 3; Decree art. 40(1) item 3; PDPA s 26B(1)(b); s 26WH",
			`{"cause":"unauthorized_access","status":"suspected","people":{"JP":10,"KR":10,"SG":600,"AU":10,"US-NY":5}}`,
			[]string{jpPre, jpFin60, jpInd,
				"KR-PIPA notify_individuals 2026-03-05T10:00:00+09:00", "KR-PIPA report_regulator 2026-03-05T10:00:00+09:00",
				"SG-PDPA assess 2026-04-01T23:59:59+08:00", "SG-PDPA report_regulator -",
				"AU-NDB assess 2026-04-01T23:59:59+11:00"},
			[]string{"AU-NDB"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			duties, quiet := summary(Assess(facts(t, c.set)))
			if diff := cmp.Diff(duties, c.duties); diff != "" {
				t.Errorf("%s\nduties (-got +want):\n%s", c.source, diff)
			}
			if diff := cmp.Diff(quiet, c.quiet); diff != "" {
				t.Errorf("%s\nnot triggered (-got +want):\n%s", c.source, diff)
			}
		})
	}
}

func TestNotAssessed(t *testing.T) {
	r := Assess(facts(t, `{"people":{"JP":3,"CN":4,"US":2},"categories":["my_number"]}`))
	var got []string
	for _, n := range r.NotAssessed {
		got = append(got, n.Scope)
	}
	if diff := cmp.Diff(got, []string{"CN", "US", "JP My Number Act"}); diff != "" {
		t.Errorf("not assessed (-got +want):\n%s", diff)
	}
}

func TestNotTriggeredReason(t *testing.T) {
	// The example of a not-triggered reason: e-mail without a password.
	r := Assess(facts(t, `{"people":{"US-CA":40},"categories":["person_name","email"]}`))
	if len(r.NotTriggered) != 1 || !strings.Contains(r.NotTriggered[0].Reason, "e-mail or username without a password") {
		t.Errorf("not triggered = %+v", r.NotTriggered)
	}
}

// Every category has its labels for the drafts, and every alias names a
// category.
func TestCategoryLabels(t *testing.T) {
	for _, c := range categoryTable {
		if categoryJA[c.name] == "" || categoryEN[c.name] == "" {
			t.Errorf("category %s lacks a Japanese or English label", c.name)
		}
	}
	for a, c := range categoryAliases {
		if _, ok := categoryByName[c]; !ok {
			t.Errorf("alias %s names unknown category %s", a, c)
		}
		if _, ok := categoryByName[a]; ok {
			t.Errorf("alias %s shadows a category", a)
		}
	}
	for c := range causes {
		if causeJA[c] == "" || causeEN[c] == "" {
			t.Errorf("cause %s lacks a label", c)
		}
	}
}
