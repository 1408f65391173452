package incident

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// outcome of Check: "ok", "409" (TransitionError) or "400" (FieldError).
func outcome(err error) string {
	var te *TransitionError
	var fe *FieldError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &te):
		return "409"
	case errors.As(err, &fe):
		return "400"
	}
	return err.Error()
}

func TestCheckEveryPair(t *testing.T) {
	// allowed[from] lists every state reachable from it, "!" marking the
	// exceptional moves that need a reason to be allowed at all.
	allowed := map[State][]string{
		Open:          {"contained", "investigating", "!closed"},
		Contained:     {"investigating", "!open", "!closed"},
		Investigating: {"scoped", "!contained", "!closed"},
		Scoped:        {"reporting", "!investigating", "!closed"},
		Reporting:     {"notifying", "!scoped", "!closed"},
		Notifying:     {"closed", "!reporting"},
		Closed:        {"!investigating"},
	}
	for _, from := range States {
		for _, to := range States {
			want, wantNoReason := "409", "409"
			for _, a := range allowed[from] {
				switch a {
				case string(to):
					want, wantNoReason = "ok", "400"
				case "!" + string(to):
					want, wantNoReason = "ok", "409"
				}
			}
			if got := outcome(Check(from, to, "because")); got != want {
				t.Errorf("%s → %s with a reason: %s, want %s", from, to, got, want)
			}
			if got := outcome(Check(from, to, " ")); got != wantNoReason {
				t.Errorf("%s → %s without a reason: %s, want %s", from, to, got, wantNoReason)
			}
		}
	}
}

func TestCheckMessages(t *testing.T) {
	for _, tc := range []struct {
		from, to State
		reason   string
		want     string
		allowed  []string
	}{
		{Open, Notifying, "x", "open → notifying is not allowed", []string{"contained", "investigating", "closed (with a reason)"}},
		{Open, Closed, "", "open → closed is not the normal course and needs a reason", []string{"contained", "investigating", "closed (with a reason)"}},
		{Scoped, Scoped, "x", "the incident is already scoped", []string{"reporting", "investigating (with a reason)", "closed (with a reason)"}},
		{Closed, Open, "x", "closed → open is not allowed", []string{"investigating (with a reason)"}},
	} {
		err := Check(tc.from, tc.to, tc.reason)
		var te *TransitionError
		if !errors.As(err, &te) {
			t.Errorf("%s → %s: %v, want a transition error", tc.from, tc.to, err)
			continue
		}
		if te.Error() != tc.want {
			t.Errorf("%s → %s: %q, want %q", tc.from, tc.to, te.Error(), tc.want)
		}
		if diff := cmp.Diff(te.AllowedNames(), tc.allowed); diff != "" {
			t.Errorf("%s → %s: allowed (-got +want):\n%s", tc.from, tc.to, diff)
		}
	}
	err := Check(Open, "done", "x")
	if outcome(err) != "400" || !strings.Contains(err.Error(), `unknown state "done"`) {
		t.Errorf("unknown state: %v", err)
	}
	if err := Check(Open, Contained, strings.Repeat("x", MaxReason+1)); outcome(err) != "400" {
		t.Errorf("oversized reason: %v", err)
	}
}

// Every state is reachable from open by the normal course and can be
// closed, so no incident gets stuck.
func TestNormalCourse(t *testing.T) {
	s := Open
	for _, want := range States[1:] {
		if err := Check(s, want, "next"); err != nil {
			t.Fatalf("%s → %s: %v", s, want, err)
		}
		s = want
	}
}

func TestNew(t *testing.T) {
	in, err := New("  Ransomware on FS01 ", "", "", time.Time{}, "alice", now.Add(123456))
	if err != nil {
		t.Fatal(err)
	}
	want := Incident{Title: "Ransomware on FS01", Severity: Medium, State: Open, AwareAt: now, OpenedBy: "alice", CreatedAt: now, UpdatedAt: now}
	if diff := cmp.Diff(in, want, cmpopts.IgnoreFields(Incident{}, "ID")); diff != "" {
		t.Errorf("incident (-got +want):\n%s", diff)
	}
	if !strings.HasPrefix(in.ID, "i-") || len(in.ID) != 18 {
		t.Errorf("id %q", in.ID)
	}
	jst := time.FixedZone("JST", 9*3600)
	in, err = New("x", "s", High, time.Date(2026, 11, 29, 9, 0, 0, 0, jst), "bob", now)
	if err != nil || !in.AwareAt.Equal(now.Add(-12*time.Hour)) || in.AwareAt.Location() != time.UTC || in.Severity != High {
		t.Errorf("aware_at in JST: %+v, %v", in, err)
	}
	for _, tc := range []struct {
		title, summary string
		sev            Severity
		aware          time.Time
		field          string
	}{
		{"", "", "", time.Time{}, "title"},
		{"  ", "", "", time.Time{}, "title"},
		{strings.Repeat("x", MaxTitle+1), "", "", time.Time{}, "title"},
		{"x", "\xff", "", time.Time{}, "summary"},
		{"x", "", "severe", time.Time{}, "severity"},
		{"x", "", "", now.Add(time.Hour), "aware_at"},
	} {
		_, err := New(tc.title, tc.summary, tc.sev, tc.aware, "a", now)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("New(%q, %q, %q, %v) = %v, want an error on %s", tc.title, tc.summary, tc.sev, tc.aware, err, tc.field)
		}
	}
}

func TestParse(t *testing.T) {
	if s, err := ParseState("scoped"); s != Scoped || err != nil {
		t.Errorf("ParseState(scoped) = %q, %v", s, err)
	}
	if _, err := ParseState("Scoped"); err == nil {
		t.Error("ParseState(Scoped) accepted")
	}
	if s, err := ParseSeverity(""); s != Medium || err != nil {
		t.Errorf("ParseSeverity() = %q, %v", s, err)
	}
	if _, err := ParseSeverity("urgent"); err == nil || !strings.Contains(err.Error(), "low, medium, high, critical") {
		t.Errorf("ParseSeverity(urgent) = %v", err)
	}
}

func TestNewNote(t *testing.T) {
	n, err := NewNote("i-1", "", "alice", "called the CSIRT", now)
	if err != nil || n.Kind != KindNote || !strings.HasPrefix(n.ID, "n-") || n.Author != "alice" || !n.At.Equal(now) {
		t.Errorf("note %+v, %v", n, err)
	}
	for _, tc := range []struct {
		kind NoteKind
		text string
	}{{"memo", "x"}, {KindDecision, ""}, {KindNote, " \n"}, {KindNote, strings.Repeat("x", MaxText+1)}} {
		if _, err := NewNote("i-1", tc.kind, "a", tc.text, now); outcome(err) != "400" {
			t.Errorf("NewNote(%q, %d bytes) = %v", tc.kind, len(tc.text), err)
		}
	}
}

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		meta map[string]string
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{map[string]string{"score": "80"}, 80, true},
		{map[string]string{"score": " 70.5 "}, 70.5, true},
		{map[string]string{"score": "NaN", "severity": "high"}, 75, true},
		{map[string]string{"severity": "Critical"}, 100, true},
		{map[string]string{"severity": "60"}, 60, true},
		{map[string]string{"score": "very", "severity": "odd"}, 0, false},
		{map[string]string{"author": "x"}, 0, false},
	} {
		got, ok := Score(tc.meta)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Score(%v) = %g, %v, want %g, %v", tc.meta, got, ok, tc.want, tc.ok)
		}
	}
}

func TestAutoPolicy(t *testing.T) {
	seen := now.Add(-time.Hour)
	d := func(score string) Detection {
		return Detection{ID: 7, HostID: "h-1", Hostname: "fs01", Rule: "Ransom_Note", Meta: map[string]string{"score": score}, SeenAt: seen}
	}
	opened := &Incident{Title: "Ransom_Note on fs01", Severity: Critical, State: Open, AwareAt: seen, OpenedBy: AutoActor, CreatedAt: now, UpdatedAt: now,
		Summary: "Opened automatically: rule Ransom_Note scored 90 (at least 70) on host fs01 (h-1)."}
	opens := Plan{Open: opened, Reason: "rule Ransom_Note score 90 >= 70"}
	// latest is the outbreak's incident, which the policy (or a person,
	// by) opened for another host ago before now.
	latest := func(ago time.Duration, state State, by string) *Incident {
		return &Incident{ID: "i-outbreak", State: state, OpenedBy: by, CreatedAt: now.Add(-ago)}
	}
	noJoin := DefaultAutoPolicy
	noJoin.JoinWindowSeconds = 0
	for _, tc := range []struct {
		name   string
		policy AutoPolicy
		d      Detection
		open   []string
		latest *Incident
		want   Plan
	}{
		{"high score opens", DefaultAutoPolicy, d("70"), nil, nil, Plan{
			Open: &Incident{Title: "Ransom_Note on fs01", Severity: High, State: Open, AwareAt: seen, OpenedBy: AutoActor, CreatedAt: now, UpdatedAt: now,
				Summary: "Opened automatically: rule Ransom_Note scored 70 (at least 70) on host fs01 (h-1)."},
			Reason: "rule Ransom_Note score 70 >= 70"}},
		{"low score does nothing", DefaultAutoPolicy, d("69.9"), nil, nil, Plan{}},
		{"no score does nothing", DefaultAutoPolicy, Detection{HostID: "h-1", Rule: "x"}, nil, nil, Plan{}},
		{"disabled does nothing", AutoPolicy{MinScore: 70}, d("100"), nil, nil, Plan{}},
		{"host with an open incident links, whatever the score", DefaultAutoPolicy, d("10"), []string{"i-a", "i-b"}, nil,
			Plan{Link: []string{"i-a", "i-b"}, Reason: "detection on host h-1, linked to its open incident"}},
		{"disabled still links", AutoPolicy{}, d("10"), []string{"i-a"}, nil,
			Plan{Link: []string{"i-a"}, Reason: "detection on host h-1, linked to its open incident"}},
		{"lower threshold", AutoPolicy{Enabled: true, MinScore: 40}, Detection{HostID: "h-2", Rule: "r", Meta: map[string]string{"severity": "medium"}}, nil, nil, Plan{
			Open: &Incident{Title: "r on h-2", Severity: Medium, State: Open, AwareAt: now, OpenedBy: AutoActor, CreatedAt: now, UpdatedAt: now,
				Summary: "Opened automatically: rule r scored 50 (at least 40) on host h-2 (h-2)."},
			Reason: "rule r score 50 >= 40"}},
		{"another host within the window joins the outbreak's incident", DefaultAutoPolicy, d("90"), nil, latest(3*time.Minute, Open, AutoActor),
			Plan{Join: "i-outbreak", Reason: "rule Ransom_Note score 90 >= 70 on host fs01, 3m after incident i-outbreak opened: same outbreak (join window 24h)"}},
		{"the window's last second still joins", DefaultAutoPolicy, d("90"), nil, latest(24*time.Hour, Open, AutoActor),
			Plan{Join: "i-outbreak", Reason: "rule Ransom_Note score 90 >= 70 on host fs01, 24h after incident i-outbreak opened: same outbreak (join window 24h)"}},
		{"an incident moved on (contained) still joins", DefaultAutoPolicy, d("90"), nil, latest(time.Hour, Contained, AutoActor),
			Plan{Join: "i-outbreak", Reason: "rule Ransom_Note score 90 >= 70 on host fs01, 1h after incident i-outbreak opened: same outbreak (join window 24h)"}},
		{"past the window opens", DefaultAutoPolicy, d("90"), nil, latest(24*time.Hour+time.Second, Open, AutoActor), opens},
		{"a closed incident is not joined", DefaultAutoPolicy, d("90"), nil, latest(time.Minute, Closed, AutoActor), opens},
		{"an incident a person opened is not joined", DefaultAutoPolicy, d("90"), nil, latest(time.Minute, Open, "alice"), opens},
		{"a window of 0 never joins", noJoin, d("90"), nil, latest(time.Minute, Open, AutoActor), opens},
		{"a low score does not join", DefaultAutoPolicy, d("20"), nil, latest(time.Minute, Open, AutoActor), Plan{}},
		{"disabled does not join", AutoPolicy{MinScore: 70, JoinWindowSeconds: 3600}, d("90"), nil, latest(time.Minute, Open, AutoActor), Plan{}},
		{"the host's own open incident comes first", DefaultAutoPolicy, d("90"), []string{"i-a"}, latest(time.Minute, Open, AutoActor),
			Plan{Link: []string{"i-a"}, Reason: "detection on host h-1, linked to its open incident"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.policy.Plan(tc.d, tc.open, tc.latest, now)
			if diff := cmp.Diff(got, tc.want, cmpopts.IgnoreFields(Incident{}, "ID")); diff != "" {
				t.Errorf("plan (-got +want):\n%s", diff)
			}
			if got.Open != nil && !strings.HasPrefix(got.Open.ID, "i-") {
				t.Errorf("id %q", got.Open.ID)
			}
		})
	}
	long := d("99")
	long.Rule = strings.Repeat("東", 100)
	if p := DefaultAutoPolicy.Plan(long, nil, nil, now); len(p.Open.Title) > MaxTitle || !strings.HasSuffix(p.Open.Title, "東") {
		t.Errorf("long title %q", p.Open.Title)
	}
	for _, p := range []AutoPolicy{{MinScore: -1}, {MinScore: 101}, {JoinWindowSeconds: -1}, {JoinWindowSeconds: 30*24*3600 + 1}} {
		if err := p.Check(); err == nil {
			t.Errorf("policy %+v accepted", p)
		}
	}
	if err := DefaultAutoPolicy.Check(); err != nil {
		t.Error(err)
	}
}
