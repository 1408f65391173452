// Package notifyapi serves notice campaigns on the server's API under
// /api/v1/incidents/{id}/campaigns: drafts made from the affected people
// and the incident texts in each of their languages, a test send, approval
// by the privacy role (audited; it freezes the templates, the texts and the
// recipient list with a hash), sending and pausing,
// per-notice tracking, and the letters of people without e-mail: one PDF to
// print (privacy role, audited) and a mark that they were posted, so both
// channels are tracked on the server. The campaigns that are `sending` are
// sent by the server's background work, exactly once per notice, as
// package notify describes. Letters need the IPAex fonts on the server.
//
// The SMTP relay comes from the environment: MAMORI_NOTIFY_SMTP
// (host:port), MAMORI_NOTIFY_SMTP_TLS (starttls, require-starttls,
// implicit, none), MAMORI_NOTIFY_SMTP_USER and MAMORI_NOTIFY_SMTP_PASSWORD,
// and MAMORI_NOTIFY_CHECK_MAILDIR (the Maildir used to settle notices a
// crash left in `sending`). Without a relay, test sends and sending are
// refused with 409.
package notifyapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
	"github.com/mamori-dev/mamori/internal/notify/storebox"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// Service is the campaigns capability.
type Service struct {
	env     httpapi.Env
	box     storebox.Box
	relay   *smtpout.Config
	checker notify.Checker
	owner   string
	wake    chan struct{}
	// Poll is how often the background work looks for campaigns to send.
	Poll time.Duration
}

// Capability builds the service; cmd/mamori lists it.
func Capability(env httpapi.Env) (httpapi.Capability, error) {
	return New(env, RelayFromEnv()), nil
}

// RelayFromEnv reads the relay settings; nil when MAMORI_NOTIFY_SMTP is
// unset.
func RelayFromEnv() *smtpout.Config {
	addr := os.Getenv("MAMORI_NOTIFY_SMTP")
	if addr == "" {
		return nil
	}
	return &smtpout.Config{Addr: addr, TLS: os.Getenv("MAMORI_NOTIFY_SMTP_TLS"), Username: os.Getenv("MAMORI_NOTIFY_SMTP_USER"),
		Password: os.Getenv("MAMORI_NOTIFY_SMTP_PASSWORD"), MaxConns: 16}
}

// New builds the service with a relay (nil for none).
func New(env httpapi.Env, relay *smtpout.Config) *Service {
	s := &Service{env: env, box: storebox.Box{S: env.Store}, relay: relay, owner: notify.NewOwner(), wake: make(chan struct{}, 1), Poll: 5 * time.Second}
	if dir := os.Getenv("MAMORI_NOTIFY_CHECK_MAILDIR"); dir != "" {
		s.checker = &notify.MaildirChecker{Dir: dir}
	}
	return s
}

// CampaignRequest creates a draft campaign.
type CampaignRequest struct {
	Language   string                    `json:"language" doc:"notice language for people without one (ja or en)"`
	Facts      *NoticeFacts              `json:"facts,omitempty" doc:"the incident texts in the default language (the same as texts.LANGUAGE)"`
	Texts      map[string]NoticeFacts    `json:"texts,omitempty" doc:"the incident texts by language: each notice carries those of its own language"`
	Fallback   string                    `json:"fallback,omitempty" doc:"language of the notice for people whose language has no texts or template; without it they are refused"`
	From       string                    `json:"from" doc:"sender address" required:"true"`
	FromName   string                    `json:"from_name,omitempty"`
	ReplyTo    string                    `json:"reply_to,omitempty"`
	Zone       string                    `json:"zone,omitempty" doc:"time zone of dates in notices (default Asia/Tokyo)"`
	Templates  map[string]NoticeTemplate `json:"templates,omitempty" doc:"by language; mamori's ja and en templates when left out"`
	Recipients []NoticeRecipient         `json:"recipients" doc:"the affected people, from the register" required:"true"`
	Reason     string                    `json:"reason" required:"true"`
}

// NoticeFacts are the incident facts a notice carries in one language
// (notify.Facts): the items APPI Rules art. 10 and GDPR Art. 34 require.
type NoticeFacts notify.Facts

// texts gathers the request's incident texts by language and checks that
// each has every item a notice must carry.
func (req CampaignRequest) texts() (map[string]notify.Facts, error) {
	out := map[string]notify.Facts{}
	for l, f := range req.Texts {
		out[l] = notify.Facts(f)
	}
	if req.Facts != nil {
		if _, ok := out[req.Language]; ok {
			return nil, httpapi.BadInput("facts", "the texts in %s are given twice, here and in texts.%[1]s", req.Language)
		}
		out[req.Language] = notify.Facts(*req.Facts)
	}
	if len(out) == 0 {
		return nil, httpapi.BadInput("texts", "required: the incident texts by language (or facts, in the default language)")
	}
	for _, l := range slices.Sorted(maps.Keys(out)) {
		f, field := out[l], "texts."+l
		if req.Facts != nil && l == req.Language {
			field = "facts"
		}
		for _, item := range [][2]string{{"organization", f.Organization}, {"summary", f.Summary}, {"cause", f.Cause},
			{"secondary_harm", f.SecondaryHarm}, {"contact", f.Contact}} {
			if strings.TrimSpace(item[1]) == "" {
				return nil, httpapi.BadInput(field+"."+item[0], "required: a notice must carry it")
			}
		}
	}
	return out, nil
}

// NoticeTemplate is one language's templates (notify.TemplateSource).
type NoticeTemplate notify.TemplateSource

// NoticeRecipient is one affected person (notify.Person).
type NoticeRecipient struct {
	ID         string       `json:"id" required:"true"`
	Name       string       `json:"name" required:"true"`
	Email      string       `json:"email,omitempty"`
	PostalCode string       `json:"postal_code,omitempty"`
	Address    string       `json:"address,omitempty"`
	Language   string       `json:"language,omitempty" doc:"ja or en"`
	Items      []NoticeItem `json:"items,omitempty" doc:"the personal data exposed, masked"`
}

// NoticeItem is one exposed item (notify.Item).
type NoticeItem struct {
	Category string `json:"category" required:"true"`
	Masked   string `json:"masked" required:"true"`
}

func (r NoticeRecipient) person() notify.Person {
	p := notify.Person{ID: r.ID, Name: r.Name, Email: r.Email, PostalCode: r.PostalCode, Address: r.Address, Language: r.Language}
	for _, it := range r.Items {
		p.Items = append(p.Items, notify.Item(it))
	}
	return p
}

// CampaignView is a campaign with its notice counts.
type CampaignView struct {
	ID         string                    `json:"id"`
	Incident   string                    `json:"incident"`
	State      string                    `json:"state" enum:"draft,approved,sending,paused,done"`
	Language   string                    `json:"language"`
	Languages  []string                  `json:"languages" doc:"the languages the campaign has incident texts in"`
	Fallback   string                    `json:"fallback,omitempty"`
	From       string                    `json:"from"`
	Recipients int                       `json:"recipients"`
	Hash       string                    `json:"hash,omitempty" doc:"sha256 of the approved templates, incident texts by language and recipient list"`
	ApprovedBy string                    `json:"approved_by,omitempty"`
	ApprovedAt string                    `json:"approved_at,omitempty"`
	TestSentAt string                    `json:"test_sent_at,omitempty"`
	Counts     map[string]map[string]int `json:"counts" doc:"notices by channel and state"`
}

// CampaignReason is the body of actions that only need a reason.
type CampaignReason struct {
	Reason string `json:"reason" required:"true"`
}

// CampaignTestSend sends one notice to a test address.
type CampaignTestSend struct {
	To     string `json:"to" doc:"the address that receives the test notice" required:"true"`
	Person string `json:"person,omitempty" doc:"whose notice to send (the first recipient by default)"`
	Reason string `json:"reason" required:"true"`
}

// CampaignBounce is a DSN as received, for a mailbox watcher to post.
type CampaignBounce struct {
	Message string `json:"message" doc:"the whole DSN message (multipart/report; report-type=delivery-status)" required:"true"`
}

// CampaignBounceResult says what the DSN changed.
type CampaignBounceResult struct {
	Applied []string `json:"applied"`
}

// CampaignStateChange starts, pauses or resumes sending.
type CampaignStateChange struct {
	State  string `json:"state" enum:"sending,paused" required:"true"`
	Reason string `json:"reason" required:"true"`
}

// CampaignNotice is one notice, with the person's contact data left out.
type CampaignNotice struct {
	Person    string `json:"person"`
	Name      string `json:"name" doc:"masked"`
	Channel   string `json:"channel" enum:"email,letter"`
	State     string `json:"state" enum:"queued,sending,sent,failed,bounced,unknown"`
	Attempts  int    `json:"attempts"`
	MessageID string `json:"message_id,omitempty"`
	QueuedAt  string `json:"queued_at,omitempty"`
	SendingAt string `json:"sending_at,omitempty"`
	DoneAt    string `json:"done_at,omitempty"`
	Response  string `json:"response,omitempty"`
	Bounce    string `json:"bounce,omitempty"`
	Batch     string `json:"batch,omitempty"`
	Cursor    string `json:"cursor" doc:"pass as after for the next page"`
}

var readers = []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy, httpapi.RoleAuditor, httpapi.RoleViewer}

// Routes implements httpapi.Capability.
func (s *Service) Routes() []httpapi.Route {
	base := "/incidents/{id}/campaigns"
	return append([]httpapi.Route{
		{Method: "POST", Pattern: base, Summary: "Create a draft notice campaign for an incident's affected people.", Request: CampaignRequest{}, Response: CampaignView{},
			Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy}, Handler: s.create},
		{Method: "GET", Pattern: base, Summary: "List an incident's notice campaigns.", Response: []CampaignView(nil), Query: httpapi.PageParams,
			Roles: readers, Handler: s.list},
		{Method: "GET", Pattern: base + "/{cid}", Summary: "A campaign with its notice counts by channel and state.", Response: CampaignView{},
			Roles: readers, Handler: s.get},
		{Method: "POST", Pattern: base + "/{cid}/test", Summary: "Send one notice to a test address; required before approval.", Request: CampaignTestSend{}, Response: CampaignView{},
			Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy}, Handler: s.test},
		{Method: "POST", Pattern: base + "/{cid}/approve", Summary: "Approve a draft: freezes its templates and recipients with a hash.", Request: CampaignReason{}, Response: CampaignView{},
			Roles: []httpapi.Role{httpapi.RolePrivacy}, Handler: s.approve},
		{Method: "POST", Pattern: base + "/{cid}/state", Summary: "Start, pause or resume sending.", Request: CampaignStateChange{}, Response: CampaignView{},
			Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy}, Handler: s.setState},
		{Method: "POST", Pattern: base + "/{cid}/bounces", Summary: "Apply a delivery status notification (RFC 3464): hard bounces become letters, soft ones are retried.",
			Request: CampaignBounce{}, Response: CampaignBounceResult{}, Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RolePrivacy}, Handler: s.bounce},
		{Method: "GET", Pattern: base + "/{cid}/notices", Summary: "Notices of a campaign: channel, state, times, SMTP response, bounce.", Response: []CampaignNotice(nil), Query: httpapi.PageParams,
			Roles: readers, Handler: s.notices},
	}, s.letterRoutes(base)...)
}

// apiErr maps notify's errors to the ones httpapi.Fail knows.
func apiErr(err error) error {
	switch {
	case errors.Is(err, notify.ErrNotFound):
		return fmt.Errorf("%w (%v)", store.ErrNotFound, err)
	case errors.Is(err, notify.ErrConflict):
		return &httpapi.ConflictError{Msg: err.Error()}
	}
	return err
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (s *Service) view(ctx context.Context, c notify.Campaign) (CampaignView, error) {
	counts, err := s.box.Counts(ctx, c.ID)
	if err != nil {
		return CampaignView{}, err
	}
	v := CampaignView{ID: c.ID, Incident: c.Incident, State: string(c.State), Language: c.Language, Languages: slices.Sorted(maps.Keys(c.Texts)),
		Fallback: c.Fallback, From: c.From, Recipients: c.Recipients,
		Hash: c.Hash, ApprovedBy: c.ApprovedBy, ApprovedAt: rfc3339(c.ApprovedAt), TestSentAt: rfc3339(c.TestSentAt), Counts: map[string]map[string]int{}}
	for ch, m := range counts {
		v.Counts[string(ch)] = map[string]int{}
		for st, n := range m {
			v.Counts[string(ch)][string(st)] = n
		}
	}
	return v, nil
}

// campaign loads the campaign of the path, checking it belongs to the
// incident of the path.
func (s *Service) campaign(r *http.Request) (notify.Campaign, error) {
	c, err := s.box.Campaign(r.Context(), r.PathValue("cid"))
	if err != nil {
		return c, apiErr(err)
	}
	if c.Incident != r.PathValue("id") {
		return c, fmt.Errorf("campaign %s of incident %s: %w", c.ID, r.PathValue("id"), store.ErrNotFound)
	}
	return c, nil
}

func needReason(reason string) error {
	if strings.TrimSpace(reason) == "" {
		return httpapi.BadInput("reason", "required")
	}
	return nil
}

func (s *Service) create(w http.ResponseWriter, r *http.Request) {
	var req CampaignRequest
	if err := httpapi.DecodeBody(r, 256<<20, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	if req.Language == "" {
		req.Language = "ja"
	}
	if req.Zone == "" {
		req.Zone = "Asia/Tokyo"
	}
	templates := notify.DefaultTemplates()
	if req.Templates != nil {
		templates = map[string]notify.TemplateSource{}
		for l, t := range req.Templates {
			templates[l] = notify.TemplateSource(t)
		}
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	if err := needReason(req.Reason); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	texts, err := req.texts()
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	c := notify.Campaign{ID: "c-" + hex.EncodeToString(rnd[:]), Incident: r.PathValue("id"), State: notify.Draft, Templates: templates, Language: req.Language,
		Texts: texts, Fallback: req.Fallback, From: req.From, FromName: req.FromName, ReplyTo: req.ReplyTo, Zone: req.Zone, CreatedAt: s.env.Now().UTC()}
	if err := s.incidentExists(ctx, c.Incident); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	_, hasTexts := texts[req.Fallback]
	_, hasTemplate := templates[req.Fallback]
	if req.Fallback != "" && !(hasTexts && hasTemplate) {
		httpapi.Fail(w, r, httpapi.BadInput("fallback", "%q: the campaign needs both texts.%[1]s and templates.%[1]s", req.Fallback))
		return
	}
	if _, err := notify.NewComposer(c, nil); err != nil {
		httpapi.Fail(w, r, httpapi.BadInput("templates", "%v", err))
		return
	}
	var rows []notify.Row
	for i, rc := range req.Recipients {
		p := rc.person()
		if p.ID == "" {
			httpapi.Fail(w, r, httpapi.BadInput(fmt.Sprintf("recipients[%d].id", i), "required"))
			return
		}
		var miss *notify.MissingLanguageError
		if _, err := c.NoticeLanguage(p); errors.As(err, &miss) {
			httpapi.Fail(w, r, httpapi.BadInput(miss.Field, "required: recipients[%d] (%s) reads %s; give the %s or a fallback language",
				i, p.ID, miss.Lang, miss.Field))
			return
		}
		if row, ok := notify.NewRow(c, p, c.CreatedAt); ok {
			rows = append(rows, row)
		}
	}
	err = s.env.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := storebox.CreateCampaign(ctx, tx, c); err != nil {
			return err
		}
		if err := storebox.Insert(ctx, tx, rows); err != nil {
			return err
		}
		detail := fmt.Sprintf("draft with %d notices (%d people had no channel)", len(rows), len(req.Recipients)-len(rows))
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.env.Now(), "notify_campaign_create", c.ID, req.Reason, detail))
	})
	if err != nil {
		httpapi.Fail(w, r, apiErr(err))
		return
	}
	s.respond(w, r, c, http.StatusCreated)
}

// incidentExists reads the incident through the incident workspace's named
// query: a campaign belongs to an incident that exists.
func (s *Service) incidentExists(ctx context.Context, id string) error {
	rows, err := s.env.Store.Query(ctx, "incident-get", id)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return fmt.Errorf("incident %s: %w", id, store.ErrNotFound)
	}
	return nil
}

func (s *Service) respond(w http.ResponseWriter, r *http.Request, c notify.Campaign, code int) {
	v, err := s.view(r.Context(), c)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, code, v)
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	page, err := httpapi.ParsePage(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	cs, err := s.box.CampaignsOf(r.Context(), r.PathValue("id"), page.After, page.Limit)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := []CampaignView{}
	for _, c := range cs {
		v, err := s.view(r.Context(), c)
		if err != nil {
			httpapi.Fail(w, r, err)
			return
		}
		out = append(out, v)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) get(w http.ResponseWriter, r *http.Request) {
	c, err := s.campaign(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.respond(w, r, c, http.StatusOK)
}

func (s *Service) test(w http.ResponseWriter, r *http.Request) {
	var req CampaignTestSend
	if err := httpapi.DecodeBody(r, 0, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	c, err := s.campaign(r)
	if err == nil {
		err = needReason(req.Reason)
	}
	if err == nil && req.To == "" {
		err = httpapi.BadInput("to", "required")
	}
	if err == nil && s.relay == nil {
		err = httpapi.Conflict("no SMTP relay configured (MAMORI_NOTIFY_SMTP)")
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	comp, err := notify.NewComposer(c, nil)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	rows, err := s.box.List(ctx, notify.Query{Campaign: c.ID, Limit: 1000})
	if err != nil || len(rows) == 0 {
		httpapi.Fail(w, r, errors.Join(err, httpapi.Conflict("campaign %s has no recipients", c.ID)))
		return
	}
	row := rows[0]
	for _, x := range rows {
		if req.Person != "" && x.Person.ID == req.Person {
			row = x
		}
	}
	row.Person.Email = req.To
	row.MessageID = notify.MessageID(c.ID, "test/"+s.env.Now().UTC().Format(time.RFC3339Nano), comp.Domain)
	from, to, msg, err := comp.Compose(row)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	pool := smtpout.New(*s.relay)
	res := pool.Send(ctx, from, to, msg)
	pool.Close()
	if res.Err != nil {
		httpapi.Fail(w, r, httpapi.Conflict("test send to %s failed: %v", to, res.Err))
		return
	}
	prev := c.State
	if c.State == notify.Draft {
		c.TestSentTo, c.TestSentAt = to, s.env.Now().UTC()
	}
	err = s.env.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := storebox.UpdateCampaign(ctx, tx, c, prev); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.env.Now(), "notify_campaign_test", c.ID, req.Reason, "test notice for "+row.Person.ID+" sent to "+to+": "+res.Reply))
	})
	if err != nil {
		httpapi.Fail(w, r, apiErr(err))
		return
	}
	s.respond(w, r, c, http.StatusOK)
}

func (s *Service) approve(w http.ResponseWriter, r *http.Request) {
	var req CampaignReason
	if err := httpapi.DecodeBody(r, 0, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.move(w, r, "approve", notify.Approved, req.Reason, "only a draft is approved")
}

func (s *Service) setState(w http.ResponseWriter, r *http.Request) {
	var req CampaignStateChange
	if err := httpapi.DecodeBody(r, 0, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.move(w, r, "state", notify.CampaignState(req.State), req.Reason, fmt.Sprintf("cannot move to %q", req.State))
}

// nextStates are the states a person may move a campaign to from st.
func nextStates(st notify.CampaignState) []string {
	switch st {
	case notify.Draft:
		return []string{"approved"}
	case notify.Approved, notify.Paused:
		return []string{"sending"}
	case notify.Running:
		return []string{"paused"}
	}
	return nil
}

// A transition is a state change a person makes, by the state it moves a
// campaign to.
type transition struct {
	route  string // the route that makes it
	action string // audited as
	// check refuses the move for what it needs beyond the campaign's state,
	// and sets what the move records; it returns the audit detail, or ""
	// for "from -> to".
	check func(s *Service, ctx context.Context, c *notify.Campaign, reason string) (string, error)
	// wake tells the background work the sending changed.
	wake bool
}

var transitions = map[notify.CampaignState]transition{
	notify.Approved: {route: "approve", action: "notify_campaign_approve", check: (*Service).freeze},
	notify.Running:  {route: "state", action: "notify_campaign_state", check: (*Service).needRelay, wake: true},
	notify.Paused:   {route: "state", action: "notify_campaign_state", wake: true},
}

// move moves the path's campaign to state to through route, refusing with
// refused when the campaign's state or the route does not allow it.
func (s *Service) move(w http.ResponseWriter, r *http.Request, route string, to notify.CampaignState, reason, refused string) {
	ctx := r.Context()
	c, err := s.campaign(r)
	if err == nil {
		err = needReason(reason)
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	allowed := nextStates(c.State)
	tr, ok := transitions[to]
	if !ok || tr.route != route || !slices.Contains(allowed, string(to)) {
		httpapi.Fail(w, r, &httpapi.ConflictError{Msg: fmt.Sprintf("campaign %s is %s; %s", c.ID, c.State, refused), Allowed: allowed})
		return
	}
	prev := c.State
	detail := ""
	if tr.check != nil {
		if detail, err = tr.check(s, ctx, &c, reason); err != nil {
			httpapi.Fail(w, r, err)
			return
		}
	}
	if detail == "" {
		detail = string(prev) + " -> " + string(to)
	}
	c.State = to
	err = s.env.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := storebox.UpdateCampaign(ctx, tx, c, prev); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.env.Now(), tr.action, c.ID, reason, detail))
	})
	if err != nil {
		httpapi.Fail(w, r, apiErr(err))
		return
	}
	if tr.wake {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	s.respond(w, r, c, http.StatusOK)
}

// freeze approves a draft that had its test send: the templates must
// parse, and the recipient list is frozen with a hash.
func (s *Service) freeze(ctx context.Context, c *notify.Campaign, reason string) (string, error) {
	if c.TestSentAt.IsZero() {
		return "", httpapi.Conflict("campaign %s: send a test notice first (POST .../test)", c.ID)
	}
	if _, err := notify.ParseTemplates(c.Templates, c.Language); err != nil {
		return "", httpapi.Conflict("campaign %s: %v", c.ID, err)
	}
	var err error
	if c.Hash, c.Recipients, c.LastRow, err = notify.Freeze(ctx, s.box, *c, 0); err != nil {
		return "", err
	}
	p, _ := httpapi.PrincipalFrom(ctx)
	c.ApprovedBy, c.ApprovedAt, c.Reason = p.Actor(), s.env.Now().UTC(), reason
	return fmt.Sprintf("draft -> approved; %d notices frozen, sha256 %s", c.Recipients, c.Hash), nil
}

// needRelay refuses to start sending without a relay to send through.
func (s *Service) needRelay(context.Context, *notify.Campaign, string) (string, error) {
	if s.relay == nil {
		return "", httpapi.Conflict("no SMTP relay configured (MAMORI_NOTIFY_SMTP)")
	}
	return "", nil
}

// mask keeps the first character of a name.
func mask(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return ""
	}
	return string(r) + strings.Repeat("*", max(utf8.RuneCountInString(s)-1, 1))
}

func (s *Service) notices(w http.ResponseWriter, r *http.Request) {
	page, err := httpapi.ParsePage(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	c, err := s.campaign(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var after int64
	if page.After != "" {
		if _, err := fmt.Sscan(page.After, &after); err != nil {
			httpapi.Fail(w, r, httpapi.BadInput("query parameter after", "%q is not a notice cursor", page.After))
			return
		}
	}
	rows, err := s.box.List(r.Context(), notify.Query{Campaign: c.ID, After: after, Limit: page.Limit})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	out := []CampaignNotice{}
	for _, x := range rows {
		out = append(out, CampaignNotice{Person: x.Person.ID, Name: mask(x.Person.Name), Channel: string(x.Channel), State: string(x.State), Attempts: x.Attempts,
			MessageID: x.MessageID, QueuedAt: rfc3339(x.QueuedAt), SendingAt: rfc3339(x.SendingAt), DoneAt: rfc3339(x.DoneAt),
			Response: x.Response, Bounce: x.Bounce, Batch: x.Batch, Cursor: fmt.Sprint(x.ID)})
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
}

func (s *Service) bounce(w http.ResponseWriter, r *http.Request) {
	var req CampaignBounce
	if err := httpapi.DecodeBody(r, 8<<20, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	c, err := s.campaign(r)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	d, err := notify.ParseDSN(strings.NewReader(req.Message))
	if err != nil {
		httpapi.Fail(w, r, httpapi.BadInput("message", "%v", err))
		return
	}
	row, err := s.box.ByMessageID(ctx, d.MessageID)
	if err == nil && row.Campaign != c.ID {
		err = fmt.Errorf("message %s is not campaign %s's: %w", d.MessageID, c.ID, notify.ErrNotFound)
	}
	if err != nil {
		httpapi.Fail(w, r, apiErr(err))
		return
	}
	snd := &notify.Sender{Outbox: s.box, Now: s.env.Now}
	lines, err := snd.ApplyDSN(ctx, d)
	if err != nil {
		httpapi.Fail(w, r, apiErr(err))
		return
	}
	err = s.env.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.env.Now(), "notify_bounce", c.ID, "delivery status notification", strings.Join(lines, "; ")))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, CampaignBounceResult{Applied: lines})
}
