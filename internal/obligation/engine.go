package obligation

import (
	"fmt"
	"strings"
	"time"
)

// Duty kinds and stages, as the facts' consumers name them.
const (
	DutyReportRegulator   = "report_regulator"
	DutyNotifyIndividuals = "notify_individuals"
	DutyNotifyOther       = "notify_other"
	DutyAssess            = "assess"

	Preliminary = "preliminary"
	Final       = "final"
)

// Duty is one thing the organisation must do, by when, and why.
type Duty struct {
	Law       string `json:"law"`
	Duty      string `json:"duty"`
	Stage     string `json:"stage,omitempty"`
	Authority string `json:"authority,omitempty"`
	// Due is the deadline in the law's zone, or nil when the law gives no
	// fixed time; DueText then says what it gives.
	Due     *time.Time `json:"due"`
	DueText string     `json:"due_text,omitempty"`
	Basis   string     `json:"basis"`
	Reason  string     `json:"reason"`
}

// NotTriggered is a law that reaches some of the affected people but asks
// nothing of the organisation on these facts.
type NotTriggered struct {
	Law    string `json:"law"`
	Reason string `json:"reason"`
}

// NotAssessed is something mamori has no rules for: residents of a country
// or state it does not cover, or a special law it does not implement.
type NotAssessed struct {
	Scope  string `json:"scope"`
	People int    `json:"people,omitempty"`
	Reason string `json:"reason"`
}

// Result is the assessment of one facts document.
type Result struct {
	Duties       []Duty         `json:"duties"`
	NotTriggered []NotTriggered `json:"not_triggered"`
	NotAssessed  []NotAssessed  `json:"not_assessed,omitempty"`
}

// situation is the facts as one law sees them, with every null derived.
type situation struct {
	f         Facts
	cats      catSet
	aware     date // in the law's zone
	residents int  // people resident where the law reaches
	total     int  // everyone affected
	wrongful  bool
}

func (s *situation) special(pred func(catInfo) bool) bool {
	if s.f.SpecialCare != nil {
		return *s.f.SpecialCare
	}
	return s.cats.any(pred)
}

func (s *situation) financial() bool {
	if s.f.FinancialDamageRisk != nil {
		return *s.f.FinancialDamageRisk
	}
	return s.cats.financial()
}

func (s *situation) hasIdentityDoc() bool {
	return s.cats.any(func(c catInfo) bool { return c.identityDoc })
}

// wrongfulPurpose derives Facts.WrongfulPurpose from the cause when null.
func wrongfulPurpose(f Facts) bool {
	if f.WrongfulPurpose != nil {
		return *f.WrongfulPurpose
	}
	return causes[f.Cause]
}

// Assess judges facts by the law in force at their aware_at. It is a pure
// function: same facts, same result.
func Assess(f Facts) Result {
	res := Result{Duties: []Duty{}, NotTriggered: []NotTriggered{}}
	cats := catSet{}
	for _, c := range f.Categories {
		cats[c] = true
	}
	total := 0
	for _, n := range f.People {
		total += n
	}
	covered := map[string]bool{}
	for _, l := range laws {
		residents := 0
		for code, n := range f.People {
			if l.covers(code, f.AwareAt) {
				covered[code] = true
				residents += n
			}
		}
		if residents == 0 {
			continue
		}
		s := &situation{f: f, cats: cats, aware: dateIn(f.AwareAt, l.zone), residents: residents, total: total, wrongful: wrongfulPurpose(f)}
		l.assess(s, &res)
	}
	for _, code := range sortedKeys(f.People) {
		if n := f.People[code]; n > 0 && !covered[code] {
			res.NotAssessed = append(res.NotAssessed, NotAssessed{Scope: code, People: n, Reason: uncoveredReason(code)})
		}
	}
	if f.People["JP"] > 0 && cats["my_number"] {
		res.NotAssessed = append(res.NotAssessed, NotAssessed{Scope: "JP My Number Act",
			Reason: "My Number (特定個人情報) leaks have their own reporting duty under the My Number Act art. 29-4 and its PPC rules, which mamori does not implement; assess them separately"})
	}
	return res
}

func uncoveredReason(code string) string {
	if code == "US" {
		return "US breach-notification duties are state law; count people by state (US-CA) so each state can be assessed"
	}
	if strings.HasPrefix(code, "US-") {
		return "mamori has no rules for this state's breach-notification law; assess it separately"
	}
	return "mamori has no rules for this country's law; assess it separately"
}

// law is one statute's breach rules over time.
type law struct {
	code string
	zone *time.Location
	// covers reports whether people resident in code are within the law's reach at t.
	covers func(code string, t time.Time) bool
	// regimes in date order; an aware date before the first is handled by before.
	regimes []regime
	// before explains an aware date earlier than the first regime. With
	// unimplemented set, the law did have rules then but mamori lacks them.
	before        string
	unimplemented bool
}

// regime is the law as in force from one date (inclusive, in the law's
// zone) until the next regime's from.
type regime struct {
	from string
	// exempt, when it holds, removes every duty (with the reason why).
	exempt []condition
	// triggers are the situations the law reports on; a duty with no
	// needs of its own requires any of them.
	triggers []condition
	duties   []dutyRule
	// quiet explains, given the situation, why no notification is due; nil
	// where some notification is always due once the law applies.
	quiet func(s *situation) string
}

type condition struct {
	id, basis, reason string
	holds             func(s *situation) bool
	// detail, if set, names what in these facts made the condition hold.
	detail func(s *situation) string
}

// catsWhere names the incident's categories a law classes by pred.
func catsWhere(pred func(catInfo) bool) func(s *situation) string {
	return func(s *situation) string {
		var out []string
		for _, n := range s.cats.sorted() {
			if pred(categoryByName[n]) {
				out = append(out, n)
			}
		}
		if len(out) == 0 {
			return ""
		}
		return "categories: " + strings.Join(out, ", ")
	}
}

type dutyRule struct {
	duty, stage, authority, basis, reason string
	// needs lists trigger ids of which one must have fired; empty means any.
	needs []string
	// when, if set, is a further condition.
	when func(s *situation) bool
	// due gives the deadline, or nil and a text.
	due func(s *situation, fired map[string]bool) (*time.Time, string)
	// note, if set, adds to the reason what these facts make of the rule.
	note func(s *situation, fired map[string]bool) string
}

func (l law) assess(s *situation, res *Result) {
	idx := -1
	for i, r := range l.regimes {
		if !s.aware.before(parseDate(r.from)) {
			idx = i
		}
	}
	if idx < 0 {
		if l.unimplemented {
			res.NotAssessed = append(res.NotAssessed, NotAssessed{Scope: l.code, People: s.residents, Reason: l.before})
		} else {
			res.NotTriggered = append(res.NotTriggered, NotTriggered{Law: l.code, Reason: l.before})
		}
		return
	}
	r := l.regimes[idx]
	for _, e := range r.exempt {
		if e.holds(s) {
			res.NotTriggered = append(res.NotTriggered, NotTriggered{Law: l.code, Reason: e.reason + " (" + e.basis + ")"})
			return
		}
	}
	fired := map[string]bool{}
	var firedConds []condition
	for _, t := range r.triggers {
		if t.holds(s) {
			fired[t.id] = true
			if t.detail != nil {
				if d := t.detail(s); d != "" {
					t.reason += " (" + d + ")"
				}
			}
			firedConds = append(firedConds, t)
		}
	}
	notifying := false
	for _, d := range r.duties {
		var because []condition
		for _, c := range firedConds {
			if len(d.needs) == 0 || contains(d.needs, c.id) {
				because = append(because, c)
			}
		}
		if len(because) == 0 || (d.when != nil && !d.when(s)) {
			continue
		}
		due, text := d.due(s, fired)
		if due != nil {
			text = ""
		}
		reason := d.reason
		if d.note != nil {
			if n := d.note(s, fired); n != "" {
				reason += " " + n
			}
		}
		res.Duties = append(res.Duties, Duty{Law: l.code, Duty: d.duty, Stage: d.stage, Authority: d.authority,
			Due: due, DueText: text, Basis: joinBasis(d.basis, because), Reason: joinReason(reason, because)})
		notifying = notifying || d.duty != DutyAssess
	}
	// A law with only an assessment due is also listed as not triggered,
	// so the reader learns nothing is notifiable on the facts as they stand.
	if !notifying && r.quiet != nil {
		res.NotTriggered = append(res.NotTriggered, NotTriggered{Law: l.code, Reason: r.quiet(s)})
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func joinBasis(basis string, because []condition) string {
	var parts []string
	if basis != "" {
		parts = append(parts, basis)
	}
	seen := map[string]bool{basis: true}
	for _, c := range because {
		if c.basis != "" && !seen[c.basis] {
			seen[c.basis] = true
			parts = append(parts, c.basis)
		}
	}
	return strings.Join(parts, "; ")
}

func joinReason(reason string, because []condition) string {
	var rs []string
	for _, c := range because {
		if c.reason != "" {
			rs = append(rs, c.reason)
		}
	}
	if len(rs) == 0 {
		return reason
	}
	return reason + " Because: " + strings.Join(rs, "; ") + "."
}

// Helpers the rule tables use for deadlines.

func at(t time.Time) *time.Time { return &t }

func hoursAfter(h int, loc *time.Location) func(*situation, map[string]bool) (*time.Time, string) {
	return func(s *situation, _ map[string]bool) (*time.Time, string) {
		t := s.f.AwareAt.Add(time.Duration(h) * time.Hour)
		if loc != nil {
			t = t.In(loc)
		}
		return at(t), ""
	}
}

func endOfDayAfter(days int, loc *time.Location) func(*situation, map[string]bool) (*time.Time, string) {
	return func(s *situation, _ map[string]bool) (*time.Time, string) {
		return at(s.aware.addDays(days).endOfDay(loc)), ""
	}
}

func noFixedTime(text string) func(*situation, map[string]bool) (*time.Time, string) {
	return func(*situation, map[string]bool) (*time.Time, string) { return nil, text }
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
