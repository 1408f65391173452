package obligation

import (
	"sort"
	"time"
)

// UnknownResidence is the scoping summary's country for people whose
// residence neither address nor phone tells.
const UnknownResidence = "unknown"

// DeriveFacts builds the facts of an incident from what the workspace
// knows: when the organisation became aware, the cause if one is known
// ("" leaves it "other") and the register's counts (nil before scoping).
// People of unknown residence are counted as JP: APPI, the home law, counts
// every affected person whatever their residence, so this never lowers a
// threshold it applies (see README). The special-care and financial flags
// are set only when the register found such people; otherwise they stay
// null and are derived from the categories.
func DeriveFacts(awareAt time.Time, cause string, reg *RegisterSummary) Facts {
	if _, ok := causes[cause]; !ok {
		cause = "other"
	}
	f := Facts{AwareAt: awareAt, Cause: cause, Status: "suspected", Categories: []string{}, People: map[string]int{}}
	if reg == nil {
		return f
	}
	for code, n := range reg.ByCountry {
		if n <= 0 {
			continue
		}
		if code == UnknownResidence || checkResidence(code) != "" {
			code = "JP"
		}
		f.People[code] += n
	}
	if len(f.People) == 0 && reg.People > 0 {
		f.People["JP"] = reg.People
	}
	for c, n := range reg.ByCategory {
		if name, ok := categoryAliases[c]; ok {
			c = name
		}
		if _, ok := categoryByName[c]; ok && n > 0 && !contains(f.Categories, c) {
			f.Categories = append(f.Categories, c)
		}
	}
	sort.Strings(f.Categories)
	yes := true
	if reg.SpecialCare > 0 {
		f.SpecialCare = &yes
	}
	if reg.FinancialRisk > 0 {
		f.FinancialDamageRisk = &yes
	}
	return f
}
