package obligation

import (
	"fmt"
	"strings"
	"time"
)

// The rule tables. Each law is a list of regimes by the date they came into
// force; each regime lists its exemptions, the situations that trigger it
// (with the provision and a plain-language reason) and the duties those
// situations create. Where a provision's detail was uncertain the rule is
// written conservatively and README.md's coverage notes say so.

// Citations, abbreviated in every basis:
//   JP: Act = 個人情報の保護に関する法律 (Act on the Protection of Personal
//       Information, numbering in force from 2022-04-01); Rules = 個人情報の
//       保護に関する法律施行規則 (PPC Enforcement Rules); guideline = 個人情報の
//       保護に関する法律についてのガイドライン（通則編）.
//   KR: PIPA = 개인정보 보호법; Decree = its Enforcement Decree.
//   SG: PDPA = Personal Data Protection Act 2012, Part 6A; Regs = Personal
//       Data Protection (Notification of Data Breaches) Regulations 2021.
//   AU: Privacy Act 1988 (Cth), Part IIIC.
//   US-CA: California Civil Code.

var laws = []law{jpAPPI, euGDPR, ukGDPR, krPIPA, sgPDPA, auNDB, usCA}

// --- Japan -----------------------------------------------------------------

var jpAPPI = law{
	code:   "JP-APPI",
	zone:   zoneJST,
	covers: func(code string, _ time.Time) bool { return code == "JP" },
	before: "mandatory reporting under Act art. 26 began on 2022-04-01 (2020 amendment); before it the PPC's notice of 2017 asked only for voluntary reports",
	regimes: []regime{
		jpRegime("2022-04-01", false),
		// Rules art. 7 item 3 as amended in 2023 (in force
		// 2024-04-01) also covers personal information the business is
		// acquiring and means to handle as personal data, as in web skimming.
		jpRegime("2024-04-01", true),
	},
}

func jpRegime(from string, acquisition bool) regime {
	inAcq := func(s *situation) bool { return s.f.InAcquisition }
	r := regime{
		from: from,
		exempt: []condition{{
			basis:  "Rules art. 7 item 1",
			reason: "the data had high-level encryption or other measures necessary to protect the individuals' rights and interests (高度な暗号化その他の個人の権利利益を保護するために必要な措置), which Rules art. 7 excludes from every reportable situation",
			holds:  func(s *situation) bool { return s.f.Encrypted },
		}},
		triggers: []condition{
			{id: "special", basis: "Rules art. 7 item 1",
				reason: "the data include special-care personal information (要配慮個人情報), reportable whatever the number of people",
				holds: func(s *situation) bool {
					return !inAcq(s) && s.special(func(c catInfo) bool { return c.appiSpecial })
				},
				detail: catsWhere(func(c catInfo) bool { return c.appiSpecial })},
			{id: "financial", basis: "Rules art. 7 item 2",
				reason: "misuse of the data could cause financial damage (a credit-card number, or account data with the credentials to use it), reportable whatever the number of people",
				holds:  func(s *situation) bool { return !inAcq(s) && s.financial() },
				detail: catsWhere(func(c catInfo) bool { return c.name == "credit_card" || c.name == "bank_account" })},
			{id: "wrongful", basis: "Rules art. 7 item 3",
				reason: "the leak may have been caused by an act with a wrongful purpose, such as malware, unauthorised access or theft by an insider, reportable whatever the number of people",
				holds:  func(s *situation) bool { return s.wrongful && (!inAcq(s) || acquisition) },
				detail: func(s *situation) string {
					if s.f.WrongfulPurpose != nil {
						return "wrongful_purpose set to true"
					}
					return "cause: " + s.f.Cause
				}},
			{id: "over1000", basis: "Rules art. 7 item 4",
				reason: "more than 1,000 people are affected",
				holds:  func(s *situation) bool { return !inAcq(s) && s.total > 1000 },
				detail: func(s *situation) string { return fmt.Sprintf("%d people", s.total) }},
		},
		duties: []dutyRule{
			{duty: DutyReportRegulator, stage: Preliminary, authority: "PPC",
				basis:  "Act art. 26(1); Rules art. 8(1); guideline 3-5-3-3",
				reason: "Send the PPC a preliminary report (速報) promptly with what is known of the nine items of Rules art. 8(1). The guideline reads \"promptly\" as roughly 3 to 5 days from the day the business knew; mamori gives the earliest reading, the end of the third day after it (JST).",
				due:    endOfDayAfter(3, zoneJST)},
			{duty: DutyReportRegulator, stage: Final, authority: "PPC",
				basis:  "Act art. 26(1); Rules art. 8(2); guideline 3-5-3-4",
				reason: "Send the PPC the final report (確報) with all nine items within 30 days of the day the business knew, or 60 days where Rules art. 7 item 3 (wrongful purpose) applies. The guideline counts the day it knew as day 1, weekends and holidays included; a last day on which the administrative organs are closed moves to the next open day.",
				due: func(s *situation, fired map[string]bool) (*time.Time, string) {
					n := 30
					if fired["wrongful"] {
						n = 60
					}
					return at(jpNthDay(s.aware, n).endOfDay(zoneJST)), ""
				},
				note: func(s *situation, fired map[string]bool) string {
					n := 30
					if fired["wrongful"] {
						n = 60
					}
					day := s.aware.addDays(n - 1)
					msg := fmt.Sprintf("Here: %d days; day %d is %s", n, n, day)
					if due := jpNthDay(s.aware, n); due != day {
						msg += fmt.Sprintf(", a closed day, so the deadline is %s", due)
					}
					return msg + "."
				}},
			{duty: DutyNotifyIndividuals,
				basis:  "Act art. 26(2); Rules art. 10",
				reason: "Notify each person promptly as the situation allows, with the items of Rules art. 10 (summary, items of data, cause, secondary damage, other useful matters). Where notice is difficult, alternative measures such as a public announcement with an enquiry point are allowed (Act art. 26(2) proviso).",
				due:    noFixedTime("promptly, as the situation allows (速やかに)")},
		},
	}
	r.quiet = func(s *situation) string {
		if s.f.InAcquisition && !acquisition {
			return "personal information still being acquired (not yet in a database) was outside Rules art. 7 before the amendment in force from 2024-04-01"
		}
		if s.f.InAcquisition {
			return "for personal information still being acquired, only a wrongful-purpose act is reportable (Rules art. 7 item 3 as in force from 2024-04-01), and none is suspected"
		}
		return fmt.Sprintf("none of Rules art. 7's situations: no special-care data, no risk of financial damage, no suspected wrongful purpose, and %s (the threshold is more than 1,000)",
			plural(s.total, "person", "people"))
	}
	return r
}

// --- GDPR ------------------------------------------------------------------

func gdprHighRisk(s *situation) bool {
	return s.special(func(c catInfo) bool { return c.gdprSpecial }) || s.financial() || s.hasIdentityDoc() || s.cats.credentials()
}

const gdprHighRiskReason = "the data are likely to put the people at high risk (special-category or criminal data, financial data, identity documents or account credentials)"

func gdprRegime(from, prefix, authority string) regime {
	return regime{
		from: from,
		exempt: []condition{{
			basis:  prefix + "Art. 33(1), 34(3)(a); EDPB Guidelines 9/2022",
			reason: "the data were encrypted and the key was not compromised, so the breach is unlikely to result in a risk to the people's rights and freedoms",
			holds:  func(s *situation) bool { return s.f.Encrypted },
		}},
		triggers: []condition{
			{id: "risk",
				reason: "a confidentiality breach of unencrypted personal data is presumed to result in a risk to the people",
				holds:  func(s *situation) bool { return true }},
			{id: "high", reason: gdprHighRiskReason, holds: gdprHighRisk,
				detail: catsWhere(func(c catInfo) bool {
					return c.gdprSpecial || c.identityDoc || c.name == "credit_card" || c.name == "bank_account" || c.name == "password" || c.name == "security_qa"
				})},
		},
		duties: []dutyRule{
			{duty: DutyReportRegulator, authority: authority, needs: []string{"risk"},
				basis:  prefix + "Art. 33(1), 33(3)",
				reason: "Notify the supervisory authority without undue delay and, where feasible, within 72 hours of becoming aware, with the content of Art. 33(3); give reasons for any delay and send information in phases if need be (Art. 33(4)).",
				due:    hoursAfter(72, nil),
				note: func(s *situation, fired map[string]bool) string {
					if fired["high"] {
						return ""
					}
					return "Art. 34 does not require telling the people: on these categories the breach is not likely to result in a high risk."
				}},
			{duty: DutyNotifyIndividuals, needs: []string{"high"},
				basis:  prefix + "Art. 34(1), 34(2)",
				reason: "Communicate the breach to the people in clear and plain language without undue delay.",
				due:    noFixedTime("without undue delay")},
		},
	}
}

var euGDPR = law{
	code: "EU-GDPR",
	zone: time.UTC,
	covers: func(code string, t time.Time) bool {
		// The UK applied the EU GDPR until the end of the transition period.
		return eea[code] || (code == "GB" && t.Before(ukGDPRStart))
	},
	before:  "the GDPR applies from 2018-05-25",
	regimes: []regime{gdprRegime("2018-05-25", "GDPR ", "lead supervisory authority (GDPR Art. 56)")},
}

// ukGDPRStart is the end of the Brexit transition period (IP completion
// day, 31 December 2020 23:00 GMT).
var ukGDPRStart = time.Date(2020, 12, 31, 23, 0, 0, 0, time.UTC)

var ukGDPR = law{
	code: "UK-GDPR",
	zone: mustZone("Europe/London"),
	covers: func(code string, t time.Time) bool {
		return code == "GB" && !t.Before(ukGDPRStart)
	},
	before: "the UK GDPR applies from 2021-01-01",
	// The regime's date is that of IP completion day in London; covers
	// holds the exact instant.
	regimes: []regime{gdprRegime("2020-12-31", "UK GDPR ", "ICO")},
}

// --- Korea -----------------------------------------------------------------

func krHacking(s *situation) bool {
	return s.f.Cause == "malware" || s.f.Cause == "unauthorized_access"
}

var krPIPA = law{
	code:          "KR-PIPA",
	zone:          zoneKST,
	covers:        func(code string, _ time.Time) bool { return code == "KR" },
	before:        "mamori implements PIPA's breach rules from 2020-08-05 (after the 2020 amendments); assess earlier breaches separately",
	unimplemented: true,
	// No encryption exemption is applied: mamori could not confirm one in
	// the decree's text, so the rules keep every duty (see README).
	regimes: []regime{
		{
			from: "2020-08-05",
			triggers: []condition{
				{id: "leak", basis: "PIPA art. 34(1)", reason: "personal information of people in Korea was leaked",
					holds: func(s *situation) bool { return true }},
				{id: "over1000", basis: "PIPA art. 34(3); Decree art. 39(1) (as in force to 2023-09-14)",
					reason: "1,000 or more people in Korea are affected",
					holds:  func(s *situation) bool { return s.residents >= 1000 },
					detail: func(s *situation) string { return fmt.Sprintf("%d people", s.residents) }},
			},
			duties: []dutyRule{
				{duty: DutyNotifyIndividuals, needs: []string{"leak"}, basis: "PIPA art. 34(1)",
					reason: "Notify the people without delay. Information and communications service providers had a stricter 24-hour rule (PIPA art. 39-4), which mamori does not model.",
					due:    noFixedTime("without delay (지체 없이)"),
					note: func(s *situation, fired map[string]bool) string {
						if fired["over1000"] {
							return ""
						}
						return fmt.Sprintf("No report to the PIPC is due: %s in Korea, under the 1,000 threshold of the time.", plural(s.residents, "person", "people"))
					}},
				{duty: DutyReportRegulator, authority: "PIPC or KISA", needs: []string{"over1000"}, basis: "PIPA art. 34(3)",
					reason: "Report the notice and the measures taken to the PIPC or KISA without delay.",
					due:    noFixedTime("without delay (지체 없이)")},
			},
		},
		{
			from: "2023-09-15",
			triggers: []condition{
				{id: "leak", basis: "PIPA art. 34(1); Decree art. 39(1)", reason: "personal information of people in Korea was lost, stolen or leaked",
					holds: func(s *situation) bool { return true }},
				{id: "over1000", basis: "Decree art. 40(1) item 1",
					reason: "1,000 or more people in Korea are affected",
					holds:  func(s *situation) bool { return s.residents >= 1000 },
					detail: func(s *situation) string { return fmt.Sprintf("%d people", s.residents) }},
				{id: "sensitive", basis: "Decree art. 40(1) item 2",
					reason: "sensitive information (민감정보) or unique identifiers (고유식별정보: resident registration, passport, driver's licence numbers) are involved",
					holds: func(s *situation) bool {
						return s.special(func(c catInfo) bool { return c.krSensitive }) || s.cats.any(func(c catInfo) bool { return c.krUnique })
					},
					detail: catsWhere(func(c catInfo) bool { return c.krSensitive || c.krUnique })},
				{id: "hacking", basis: "Decree art. 40(1) item 3",
					reason: "the leak came from unlawful access from outside to the processing systems or devices (malware, unauthorised access)",
					holds:  krHacking},
			},
			duties: []dutyRule{
				{duty: DutyNotifyIndividuals, needs: []string{"leak"}, basis: "PIPA art. 34(1); Decree art. 39(1)",
					reason: "Notify each person in writing, by e-mail or similar within 72 hours of becoming aware.",
					due:    hoursAfter(72, zoneKST),
					note: func(s *situation, fired map[string]bool) string {
						if fired["over1000"] || fired["sensitive"] || fired["hacking"] {
							return ""
						}
						return fmt.Sprintf("No report to the PIPC is due: %s in Korea (under 1,000), no sensitive data or unique identifiers, and no unlawful access from outside.", plural(s.residents, "person", "people"))
					}},
				{duty: DutyReportRegulator, authority: "PIPC or KISA", needs: []string{"over1000", "sensitive", "hacking"},
					basis:  "PIPA art. 34(3); Decree art. 40(1)",
					reason: "Report to the PIPC or KISA within 72 hours of becoming aware.",
					due:    hoursAfter(72, zoneKST)},
			},
		},
	},
}

// --- Singapore -------------------------------------------------------------

func sgHarm(s *situation) bool {
	if s.f.SpecialCare != nil && *s.f.SpecialCare || s.f.FinancialDamageRisk != nil && *s.f.FinancialDamageRisk {
		return true
	}
	identified := s.cats.any(func(c catInfo) bool { return c.identifier })
	return identified && s.cats.any(func(c catInfo) bool { return c.sgHarm }) || s.cats.credentials()
}

var sgPDPA = law{
	code:   "SG-PDPA",
	zone:   zoneSGT,
	covers: func(code string, _ time.Time) bool { return code == "SG" },
	before: "mandatory breach notification under PDPA Part 6A began on 2021-02-01",
	regimes: []regime{{
		from: "2021-02-01",
		triggers: []condition{
			{id: "any", basis: "PDPA s 26C(2)", reason: "organisations must assess whether any data breach is notifiable",
				holds: func(s *situation) bool { return true }},
			{id: "harm", basis: "PDPA s 26B(1)(a); Regs reg 3 and Schedule",
				reason: "the data are of a class deemed to result in significant harm (a name or identification number with financial, health or insurance data, or account credentials)",
				holds:  sgHarm,
				detail: catsWhere(func(c catInfo) bool { return c.sgHarm || c.name == "password" || c.name == "security_qa" })},
			{id: "scale", basis: "PDPA s 26B(1)(b); Regs reg 4",
				reason: "500 or more people are affected, a breach of significant scale",
				holds:  func(s *situation) bool { return s.residents >= 500 },
				detail: func(s *situation) string { return fmt.Sprintf("%d people", s.residents) }},
		},
		duties: []dutyRule{
			{duty: DutyAssess, needs: []string{"any"}, basis: "PDPA s 26C(2); PDPC Guide on Managing and Notifying Data Breaches",
				reason: "Assess in a reasonable and expeditious manner whether the breach is notifiable; the PDPC expects the assessment within 30 calendar days of first becoming aware.",
				when:   func(s *situation) bool { return s.f.AssessmentConcludedAt == nil },
				due:    endOfDayAfter(30, zoneSGT)},
			{duty: DutyReportRegulator, authority: "PDPC", needs: []string{"harm", "scale"}, basis: "PDPA s 26D(1)",
				reason: "Notify the PDPC as soon as practicable and no later than 3 calendar days after the day the assessment found the breach notifiable.",
				due: func(s *situation, _ map[string]bool) (*time.Time, string) {
					if c := s.f.AssessmentConcludedAt; c != nil {
						return at(dateIn(*c, zoneSGT).addDays(3).endOfDay(zoneSGT)), ""
					}
					return nil, "no later than 3 calendar days after the day the assessment finds the breach notifiable (set assessment_concluded_at for the date)"
				}},
			{duty: DutyNotifyIndividuals, needs: []string{"harm"}, basis: "PDPA s 26D(2)",
				reason: "Notify each affected person as soon as practicable, at or after the time of notifying the PDPC. Not required where encryption or another technological measure in place before the breach makes significant harm unlikely (s 26D(6)(b)).",
				when:   func(s *situation) bool { return !s.f.Encrypted },
				due:    noFixedTime("as soon as practicable, at or after notifying the PDPC")},
		},
		quiet: func(s *situation) string {
			return fmt.Sprintf("not notifiable on these facts: no data of a class deemed to cause significant harm, and %s in Singapore (under 500)", plural(s.residents, "person", "people"))
		},
	}},
}

// --- Australia -------------------------------------------------------------

func auSerious(s *situation) bool {
	return s.special(func(c catInfo) bool { return c.auSensitive }) || s.financial() || s.hasIdentityDoc() || s.cats.credentials()
}

func auEligible(s *situation) bool {
	return auSerious(s) && (s.f.Status == "confirmed" || s.f.AssessmentConcludedAt != nil)
}

var auNDB = law{
	code:   "AU-NDB",
	zone:   zoneAU,
	covers: func(code string, _ time.Time) bool { return code == "AU" },
	before: "the Notifiable Data Breaches scheme applies from 2018-02-22",
	regimes: []regime{{
		from: "2018-02-22",
		exempt: []condition{{
			basis:  "Privacy Act ss 26WE(2), 26WG",
			reason: "the data were encrypted and the key was not compromised, so serious harm is not likely",
			holds:  func(s *situation) bool { return s.f.Encrypted },
		}},
		triggers: []condition{
			{id: "suspected", basis: "Privacy Act s 26WH",
				reason: "there are reasonable grounds to suspect an eligible data breach",
				holds:  func(s *situation) bool { return s.f.Status == "suspected" && s.f.AssessmentConcludedAt == nil }},
			{id: "eligible", basis: "Privacy Act s 26WE(2)",
				reason: "an eligible data breach: the data are likely to result in serious harm (sensitive information, financial data, identity documents or account credentials)",
				holds:  auEligible,
				detail: catsWhere(func(c catInfo) bool {
					return c.auSensitive || c.identityDoc || c.name == "credit_card" || c.name == "bank_account" || c.name == "password" || c.name == "security_qa"
				})},
		},
		duties: []dutyRule{
			{duty: DutyAssess, needs: []string{"suspected"}, basis: "Privacy Act s 26WH(2)",
				reason: "Carry out a reasonable and expeditious assessment of whether it is an eligible data breach, within 30 days of becoming aware of the grounds for suspicion. If it is, notify the OAIC and the people as soon as practicable.",
				due:    endOfDayAfter(30, zoneAU)},
			{duty: DutyReportRegulator, authority: "OAIC", needs: []string{"eligible"}, basis: "Privacy Act s 26WK",
				reason: "Give the Commissioner a statement about the eligible data breach as soon as practicable.",
				due:    noFixedTime("as soon as practicable")},
			{duty: DutyNotifyIndividuals, needs: []string{"eligible"}, basis: "Privacy Act s 26WL",
				reason: "Notify the people at risk (or all the people, or publish the statement if neither is practicable) as soon as practicable after the statement to the Commissioner.",
				due:    noFixedTime("as soon as practicable after the statement to the OAIC")},
		},
		quiet: func(s *situation) string {
			if auSerious(s) {
				return "not yet an eligible data breach: the assessment has to conclude first"
			}
			return "not an eligible data breach on these facts: the categories are not likely to result in serious harm"
		},
	}},
}

// --- California ------------------------------------------------------------

// caElements lists the 1798.82(h) data elements among the categories, as
// the statute stood at the aware date.
func caElements(s *situation) []string {
	var out []string
	aware := s.aware
	if s.cats["person_name"] {
		for _, n := range s.cats.sorted() {
			c := categoryByName[n]
			if c.caElement != "" && !aware.before(parseDate(c.caElement)) {
				out = append(out, "name with "+n)
			}
		}
		if s.cats["bank_account"] && s.cats.has("password", "security_qa") {
			out = append(out, "name with bank_account and its access code")
		}
	}
	if s.cats.credentials() && !aware.before(parseDate("2014-01-01")) {
		out = append(out, "username or e-mail with a password or security answer")
	}
	return out
}

var usCA = law{
	code:   "US-CA",
	zone:   mustZone("America/Los_Angeles"),
	covers: func(code string, _ time.Time) bool { return code == "US-CA" },
	before: "Civil Code 1798.82 applies from 2003-07-01",
	regimes: []regime{{
		from: "2003-07-01",
		exempt: []condition{{
			basis:  "Civ. Code 1798.82(a), (h)",
			reason: "the data were encrypted and the key or credential was not acquired with them",
			holds:  func(s *situation) bool { return s.f.Encrypted },
		}},
		triggers: []condition{
			{id: "element", basis: "Civ. Code 1798.82(h)",
				reason: "the data hold a notifiable element",
				holds:  func(s *situation) bool { return len(caElements(s)) > 0 },
				detail: func(s *situation) string { return strings.Join(caElements(s), "; ") }},
			{id: "ag", basis: "Civ. Code 1798.82(f)",
				reason: "more than 500 California residents are to be notified",
				detail: func(s *situation) string { return fmt.Sprintf("%d residents", s.residents) },
				holds: func(s *situation) bool {
					return len(caElements(s)) > 0 && s.residents > 500 && !s.aware.before(parseDate("2012-01-01"))
				}},
		},
		duties: []dutyRule{
			{duty: DutyNotifyIndividuals, needs: []string{"element"}, basis: "Civ. Code 1798.82(a), (d)",
				reason: "Notify each California resident whose unencrypted personal information was, or is reasonably believed to have been, acquired by an unauthorised person, in the most expedient time possible and without unreasonable delay, using the headings of 1798.82(d).",
				due:    noFixedTime("in the most expedient time possible and without unreasonable delay")},
			{duty: DutyNotifyOther, authority: "California Attorney General", needs: []string{"ag"}, basis: "",
				reason: "Submit a single sample copy of the notice, without personal information, to the Attorney General electronically.",
				due:    noFixedTime("with the notices to residents")},
		},
		quiet: func(s *situation) string {
			return "no notifiable data element: " + caMissing(s)
		},
	}},
}

// caMissing explains, for the not-triggered reason, why the categories hold
// no 1798.82(h) element.
func caMissing(s *situation) string {
	var why []string
	if s.cats.has("email", "username") && !s.cats.has("password", "security_qa") {
		why = append(why, "e-mail or username without a password or security answer")
	}
	if !s.cats["person_name"] {
		var els []string
		for _, n := range s.cats.sorted() {
			if categoryByName[n].caElement != "" || n == "bank_account" {
				els = append(els, n)
			}
		}
		if len(els) > 0 {
			why = append(why, strings.Join(els, ", ")+" without the person's name")
		}
	} else if s.cats["bank_account"] && !s.cats.has("password", "security_qa") && !s.cats.any(func(c catInfo) bool { return c.caElement != "" }) {
		why = append(why, "bank_account without the code that gives access to it")
	}
	if len(why) == 0 {
		why = append(why, "the categories ("+s.cats.String()+") hold none of the elements of 1798.82(h)")
	}
	return strings.Join(why, "; ")
}
