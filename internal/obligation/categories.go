package obligation

import (
	"sort"
	"strings"
)

// catInfo says how each law classes one personal-data category. The table
// is the "documented table" behind every derived flag; README.md prints it.
type catInfo struct {
	name string
	// appiSpecial: 要配慮個人情報 (APPI art. 2(3); Cabinet Order art. 2).
	appiSpecial bool
	// gdprSpecial: GDPR art. 9(1) special categories, or art. 10 criminal data.
	gdprSpecial bool
	// krSensitive: 민감정보 (PIPA art. 23; Decree art. 18).
	krSensitive bool
	// krUnique: 고유식별정보 (PIPA art. 24; Decree art. 19).
	krUnique bool
	// auSensitive: "sensitive information" (Privacy Act 1988 s 6(1)).
	auSensitive bool
	// identityDoc: a government-issued identifier whose loss enables fraud.
	identityDoc bool
	// identifier: names or identifies the person (SG Schedule Part 1 "full
	// name or alias or identification number"; CA 1798.82(h)(1) name).
	identifier bool
	// sgHarm: SG Notification of Data Breaches Regs 2021, Schedule Part 1,
	// when combined with an identifier.
	sgHarm bool
	// caElement: a Civ. Code 1798.82(h)(1) data element (with a name), from
	// the date it was added to the statute.
	caElement string
}

var categoryTable = []catInfo{
	{name: "person_name", identifier: true},
	{name: "email"},
	{name: "username"},
	{name: "phone"},
	{name: "address"},
	{name: "postal_code"},
	{name: "date_of_birth"},
	{name: "credit_card", sgHarm: true, caElement: "2003-07-01"},
	{name: "bank_account", sgHarm: true},
	{name: "password"},
	{name: "security_qa"},
	{name: "my_number", identityDoc: true, identifier: true},
	{name: "passport", krUnique: true, identityDoc: true, identifier: true, caElement: "2020-01-01"},
	{name: "drivers_license", krUnique: true, identityDoc: true, identifier: true, caElement: "2003-07-01"},
	{name: "national_id", krUnique: true, identityDoc: true, identifier: true, caElement: "2020-01-01"},
	{name: "ssn", identityDoc: true, identifier: true, caElement: "2003-07-01"},
	{name: "tax_id", identityDoc: true, identifier: true, caElement: "2020-01-01"},
	{name: "military_id", identityDoc: true, identifier: true, caElement: "2020-01-01"},
	{name: "health", appiSpecial: true, gdprSpecial: true, krSensitive: true, auSensitive: true, sgHarm: true, caElement: "2008-01-01"},
	{name: "health_insurance", sgHarm: true, caElement: "2008-01-01"},
	{name: "disability", appiSpecial: true, gdprSpecial: true, krSensitive: true, auSensitive: true},
	{name: "genetic", appiSpecial: true, gdprSpecial: true, krSensitive: true, auSensitive: true, caElement: "2022-01-01"},
	{name: "biometric", gdprSpecial: true, krSensitive: true, auSensitive: true, caElement: "2020-01-01"},
	{name: "criminal_record", appiSpecial: true, gdprSpecial: true, krSensitive: true, auSensitive: true},
	{name: "crime_victim", appiSpecial: true},
	{name: "race_creed", appiSpecial: true, gdprSpecial: true, krSensitive: true, auSensitive: true},
	{name: "race", appiSpecial: true, gdprSpecial: true, krSensitive: true, auSensitive: true},
	{name: "religion", appiSpecial: true, gdprSpecial: true, krSensitive: true, auSensitive: true},
	{name: "political_opinion", appiSpecial: true, gdprSpecial: true, krSensitive: true, auSensitive: true},
	{name: "trade_union", gdprSpecial: true, krSensitive: true, auSensitive: true},
	{name: "sex_life", gdprSpecial: true, krSensitive: true, auSensitive: true},
	{name: "social_status", appiSpecial: true},
	{name: "gender"},
	{name: "ip_address"},
	{name: "account_id"},
	{name: "purchase_history"},
	{name: "card_security_code"},
	{name: "location"},
}

// categoryAliases maps names people commonly write to the canonical one.
var categoryAliases = map[string]string{
	"name": "person_name", "full_name": "person_name", "e-mail": "email", "email_address": "email",
	"phone_number": "phone", "telephone": "phone", "dob": "date_of_birth", "birthdate": "date_of_birth",
	"credit_card_number": "credit_card", "card_number": "credit_card", "cvv": "card_security_code",
	"security_code": "card_security_code", "credentials": "password", "pin": "password",
	"security_question": "security_qa", "security_answer": "security_qa", "login_id": "username", "user_id": "username",
	"customer_id": "account_id", "social_security_number": "ssn", "driver_license": "drivers_license",
	"drivers_licence": "drivers_license", "passport_number": "passport", "medical": "health",
	"medical_history": "health", "medical_record": "health", "health_data": "health", "biometrics": "biometric",
	"genetic_data": "genetic", "criminal": "criminal_record", "ethnicity": "race", "creed": "religion",
	"religious_belief": "religion", "political_opinions": "political_opinion", "trade_union_membership": "trade_union",
	"sexual_orientation": "sex_life", "individual_number": "my_number", "mynumber": "my_number",
}

var categoryByName = func() map[string]catInfo {
	m := make(map[string]catInfo, len(categoryTable))
	for _, c := range categoryTable {
		m[c.name] = c
	}
	return m
}()

// CategoryNames lists the accepted canonical category names, sorted.
func CategoryNames() []string {
	out := make([]string, 0, len(categoryTable))
	for _, c := range categoryTable {
		out = append(out, c.name)
	}
	sort.Strings(out)
	return out
}

// catSet is the categories of one incident, canonical names only.
type catSet map[string]bool

func (s catSet) any(pred func(catInfo) bool) bool {
	for n := range s {
		if pred(categoryByName[n]) {
			return true
		}
	}
	return false
}

func (s catSet) has(names ...string) bool {
	for _, n := range names {
		if s[n] {
			return true
		}
	}
	return false
}

// credentials: an account identifier with what opens the account.
func (s catSet) credentials() bool {
	return s.has("username", "email") && s.has("password", "security_qa")
}

// financial is the derivation of Rules art. 7(2) (財産的被害が生じるおそれ):
// per the PPC guideline 3-5-3-1, a credit-card number alone suffices, and
// account data counts with the credentials that move money.
func (s catSet) financial() bool {
	return s.has("credit_card") || (s.has("bank_account") && s.has("password", "security_qa"))
}

func (s catSet) sorted() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s catSet) String() string { return strings.Join(s.sorted(), ", ") }
