package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/scope/scopeapi"
	"github.com/mamori-dev/mamori/internal/server"
)

// apiFlags are the flags that point a mamori command at the demo's
// server with the token in file.
func (d *demo) apiFlags(token string) []string {
	srvDir := filepath.Join(d.res.Dir, "server")
	return []string{"--server", d.url, "--ca", filepath.Join(srvDir, "ca.pem"), "--token", "@" + token}
}

// scope asks the agents of the two PCs for their personal data, gives the
// server the customer master list and reads back the register the server
// builds: one row per person, each file's exposure derived from the
// investigation's exfiltration finding.
func (d *demo) scope(ctx context.Context) error {
	d.title("Scoping: the agents search both PCs for personal data; the server resolves it into the register of the people affected")
	id := d.res.IncidentID
	srvDir := filepath.Join(d.res.Dir, "server")
	// The privacy officer uploads the master list, and later reveals the
	// register for the notices: both are theirs alone.
	if err := d.logins(ctx); err != nil {
		return err
	}
	from := time.Now().Add(-72 * time.Hour).UTC().Truncate(time.Hour).Format(time.RFC3339)
	// The two PCs the intruder was on; only archives besides the personal
	// data: the logs were collected in step 3, and events already sent
	// are not stored twice.
	args := []string{"incident", "collect", id, "--pii", "--host", d.ids[d.hosts[0].Name], "--host", d.ids[d.hosts[1].Name],
		"--kind", "archives", "--from", from, "--reason", "find the personal data on the compromised PCs"}
	args = append(args, d.apiFlags(filepath.Join(srvDir, "admin.token"))...)
	if code, _ := d.command(ctx, nil, args...); code != 0 {
		return fmt.Errorf("mamori incident collect --pii: exit %d", code)
	}
	var col server.CollectionView
	if err := waitFor(ctx, 3*time.Minute, "the personal-data collection", func() (bool, error) {
		var cs []server.CollectionView
		if err := d.api.do(ctx, "GET", "/incidents/"+id+"/collections", nil, &cs); err != nil {
			return false, err
		}
		for _, c := range cs {
			if c.PII {
				col = c
			}
		}
		// A file no agent could read is named in its host's error; the
		// collection is then done_with_errors, and the rest still counts.
		return col.State == "done" || col.State == "done_with_errors", nil
	}); err != nil {
		return err
	}
	names := map[string]string{}
	for n, i := range d.ids {
		names[i] = n
	}
	d.say("collection %s: %s", col.ID, col.State)
	slices.SortFunc(col.Hosts, func(a, b server.SweepHost) int { return strings.Compare(names[a.HostID], names[b.HostID]) })
	for _, h := range col.Hosts {
		noun := "results"
		if h.Files == 1 {
			noun = "result"
		}
		line := fmt.Sprintf("  %s: %s, %d %s", names[h.HostID], h.State, h.Files, noun)
		if h.Error != "" {
			line += "; " + oneLine(strings.ReplaceAll(h.Error, d.res.Dir, "$DIR"))
		}
		d.say("%s", line)
	}

	var files []scopeapi.FileView
	if err := d.api.do(ctx, "GET", "/incidents/"+id+"/pii-files", nil, &files); err != nil {
		return err
	}
	d.say("GET /api/v1/incidents/%s/pii-files: %d files with personal data", id, len(files))
	for _, f := range files {
		d.say("  %-6s %-64s %4d subjects  %-11s (%s)", names[f.Host], strings.ReplaceAll(f.Path, d.res.Dir, "$DIR"), f.Subjects, f.Exposure, f.ExposureBy)
	}

	token := filepath.Join(d.res.Dir, "out", "privacy.token")
	out := filepath.Join(d.res.Dir, "out", "register")
	args = append([]string{"scope", "--incident", id, "--master", filepath.Join(d.res.Dir, "master", "customers_master.csv"),
		"--reason", "the customer master names the people and their language", "--out", out}, d.apiFlags(token)...)
	if code, _ := d.command(ctx, nil, args...); code != 0 {
		return fmt.Errorf("mamori scope --incident: exit %d", code)
	}
	d.res.RegisterCSV = filepath.Join(out, "people.csv")

	raw, err := d.api.send(ctx, "GET", "/incidents/"+id+"/people/summary", nil)
	if err != nil {
		return err
	}
	var sum scopeapi.SummaryView
	if err := json.Unmarshal(raw, &sum); err != nil {
		return fmt.Errorf("people/summary: %w", err)
	}
	d.say("GET /api/v1/incidents/%s/people/summary:", id)
	for _, l := range summaryLines(raw) {
		d.say("  %s", l)
	}
	d.res.People = sum.People
	if sum.People != len(d.people) {
		return fmt.Errorf("the register counts %d people; %d were generated", sum.People, len(d.people))
	}
	// Every customer file holds each person's name, phone number, postal
	// code, address and date of birth, and the e-mail address of those who
	// gave one: the discovery must have found each in someone's files,
	// whatever country the person lives in.
	for _, c := range []string{"person_name", "phone", "postal_code", "address", "date_of_birth", "email"} {
		want := sum.People
		if c == "email" {
			want = d.res.WithEmail
		}
		if sum.ByCategory[c] != want {
			return fmt.Errorf("the register finds %s for %d people, want %d", c, sum.ByCategory[c], want)
		}
	}
	if err := d.checkExposure(ctx, files); err != nil {
		return err
	}
	return d.move(ctx, "scoped", fmt.Sprintf("%d people affected", sum.People))
}

// summaryLines writes the summary's JSON one top-level field a line, so
// that it fits a screen.
func summaryLines(raw []byte) []string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return []string{string(raw)}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		var b bytes.Buffer
		if json.Compact(&b, m[k]) != nil {
			b.Reset()
			b.Write(m[k])
		}
		out = append(out, fmt.Sprintf("%q: %s", k, b.String()))
	}
	return out
}

// checkExposure checks that the people of the files that were taken (the
// zip and the files zipped into it), and only they, are exfiltrated: the
// register's people with a source among those files against those at
// that level, and their number against the people planted in them.
func (d *demo) checkExposure(ctx context.Context, files []scopeapi.FileView) error {
	taken := map[string]bool{}
	for _, f := range files {
		if f.Exposure == "exfiltrated" {
			taken[f.Path] = true
		}
	}
	if len(taken) == 0 {
		return fmt.Errorf("no file on the PCs is exfiltrated, though the investigation found %d taken", len(d.res.Exfiltrated))
	}
	q := url.Values{"limit": {"1000"}}
	for {
		var page []scopeapi.PersonView
		if err := d.api.do(ctx, "GET", "/incidents/"+d.res.IncidentID+"/people?"+q.Encode(), nil, &page); err != nil {
			return err
		}
		for _, p := range page {
			in := slices.ContainsFunc(p.Sources, func(s string) bool {
				_, path, _ := strings.Cut(s, ":")
				path, _, _ = strings.Cut(path, "!")
				return taken[path]
			})
			exf := p.Exposure == "exfiltrated"
			if in {
				d.res.PeopleInArchive++
			}
			if exf {
				d.res.ExfiltratedPeople++
			}
			if in != exf {
				d.res.ExposureMismatch++
			}
		}
		if len(page) < 1000 {
			break
		}
		q.Set("after", page[len(page)-1].ID)
	}
	d.res.PlantedInArchive = layoutOf(len(d.people)).zipped(len(d.people))
	d.say("exfiltrated: %d people, each with a source among the %d files taken, and no one else; %d people were planted in them",
		d.res.ExfiltratedPeople, len(taken), d.res.PlantedInArchive)
	if d.res.ExposureMismatch > 0 || d.res.PeopleInArchive != d.res.PlantedInArchive {
		return fmt.Errorf("exposure: %d people in the files taken, %d planted there, %d exfiltrated, %d at a level their sources do not give",
			d.res.PeopleInArchive, d.res.PlantedInArchive, d.res.ExfiltratedPeople, d.res.ExposureMismatch)
	}
	return nil
}

// recipients reads the notices' recipients from the server's register:
// the privacy officer exports it revealed (audited), and everyone in it
// gets a notice, by e-mail where the register has an address, by letter
// otherwise.
func (d *demo) recipients(ctx context.Context) ([]notify.Person, error) {
	path := "/incidents/" + d.res.IncidentID + "/people/export"
	b, err := d.privacy.send(ctx, "POST", path, scopeapi.ExportRequest{Format: "csv", Reason: "the notices need each person's name, address and e-mail"})
	if err != nil {
		return nil, err
	}
	var people []notify.Person
	if err := notify.ReadRecipients(bytes.NewReader(b), func(p notify.Person) error { people = append(people, p); return nil }); err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	abroad := map[string]bool{}
	for _, p := range d.people {
		if p.Country != "JP" {
			abroad[strings.ToLower(p.Email)] = true
		}
	}
	mail := 0
	for _, p := range people {
		if p.Email != "" {
			mail++
		}
		if abroad[strings.ToLower(p.Email)] && p.Language == "en" {
			d.res.AbroadEnglish++
		}
	}
	d.say("POST /api/v1%s (as privacy, audited): the register revealed, %d people: %d by e-mail, %d by letter; %d living abroad written to in English, the master's language for them",
		path, len(people), mail, len(people)-mail, d.res.AbroadEnglish)
	return people, nil
}

// personalDataAudit shows the audit log's entries of the privacy
// officer's work on the register: the master list uploaded and the
// register revealed.
func (d *demo) personalDataAudit(ctx context.Context) error {
	var leaves []server.AuditLeaf
	q := url.Values{"target": {d.res.IncidentID}, "limit": {"1000"}}
	if err := d.api.do(ctx, "GET", "/audit?"+q.Encode(), nil, &leaves); err != nil {
		return err
	}
	d.say("the privacy officer's work on the register, in the audit log (GET /api/v1/audit?target=%s):", d.res.IncidentID)
	for _, l := range leaves {
		if strings.HasPrefix(l.Action, "scope.") {
			d.res.ScopeAudit = append(d.res.ScopeAudit, l.Actor+"/"+l.Action)
			d.say("  audit #%d  %s  %s as %s: %s (%s)", l.Index, l.Action, l.Actor, l.Role, l.Reason, l.Result)
		}
	}
	return nil
}
