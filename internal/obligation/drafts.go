package obligation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// DraftContext is what a person knows of the incident beyond the facts:
// the narrative the reports need. Every field is optional; a draft marks an
// empty one as still unknown, as a preliminary report may.
type DraftContext struct {
	Organization       string `json:"organization"`
	Contact            string `json:"contact"`
	DPO                string `json:"dpo"`
	OccurredAt         string `json:"occurred_at"`
	HowDiscovered      string `json:"how_discovered"`
	Summary            string `json:"summary"`
	CauseDetail        string `json:"cause_detail"`
	SecondaryHarm      string `json:"secondary_harm"`
	IndividualResponse string `json:"individual_response"`
	Publication        string `json:"publication"`
	Measures           string `json:"measures"`
	Other              string `json:"other"`
}

// DecodeContext reads a DraftContext strictly.
func DecodeContext(r io.Reader) (DraftContext, error) {
	var c DraftContext
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return DraftContext{}, fmt.Errorf("draft context: %w", err)
	}
	return c, nil
}

// RegisterSummary is what the affected-people register knows, in counts
// only: the drafts never carry a person's data. Its JSON names are those of
// the scoping summary (internal/scope), so that document can be read as
// it is; by_channel is how the notices will go (email, letter, none).
type RegisterSummary struct {
	People        int            `json:"people"`
	ByCategory    map[string]int `json:"by_category"`
	ByExposure    map[string]int `json:"by_exposure"`
	ByCountry     map[string]int `json:"by_country"`
	ByChannel     map[string]int `json:"by_channel"`
	NoContact     int            `json:"no_contact"`
	SpecialCare   int            `json:"special_care"`
	FinancialRisk int            `json:"financial_risk"`
}

// DecodeRegisterSummary reads a register summary. Fields it does not know
// are ignored: the summary belongs to the scoping part and may grow.
func DecodeRegisterSummary(r io.Reader) (RegisterSummary, error) {
	var s RegisterSummary
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return RegisterSummary{}, fmt.Errorf("register summary: %w", err)
	}
	if s.People < 0 || s.NoContact < 0 || s.SpecialCare < 0 || s.FinancialRisk < 0 {
		return RegisterSummary{}, errors.New("register summary: negative count")
	}
	return s, nil
}

// Draft is one document to send or publish, as sections of labelled
// fields so it renders alike in Markdown, HTML and JSON.
type Draft struct {
	Name     string         `json:"name"`
	Title    string         `json:"title"`
	Lang     string         `json:"lang"`
	Sections []DraftSection `json:"sections"`
	// FactsUsed names the facts (and register or context fields) the draft
	// was filled from, with their values.
	FactsUsed []string `json:"facts_used"`
}

// DraftSection is a numbered item of a form, or a paragraph group of a letter.
type DraftSection struct {
	Heading string       `json:"heading"`
	Fields  []DraftField `json:"fields"`
}

// DraftField is one labelled value; Unknown marks a value still to be found.
type DraftField struct {
	Label   string `json:"label,omitempty"`
	Value   string `json:"value"`
	Unknown bool   `json:"unknown,omitempty"`
}

const (
	unknownJA = "未確定（調査中）"
	unknownEN = "Not yet known (under investigation)"
)

func val(v, unknown string) DraftField {
	if strings.TrimSpace(v) == "" {
		return DraftField{Value: unknown, Unknown: true}
	}
	return DraftField{Value: v}
}

func labelled(label string, f DraftField) DraftField { f.Label = label; return f }

// draftBase is what every draft derives from the facts.
type draftBase struct {
	f     Facts
	r     Result
	ctx   DraftContext
	reg   *RegisterSummary
	total int
	used  []string
	fired map[string]bool // JP-APPI triggers, for the PPC form's checkboxes
	wrong bool
	cats  catSet
}

func newDraftBase(f Facts, ctx DraftContext, reg *RegisterSummary) *draftBase {
	b := &draftBase{f: f, r: Assess(f), ctx: ctx, reg: reg, wrong: wrongfulPurpose(f), cats: catSet{}}
	for _, c := range f.Categories {
		b.cats[c] = true
	}
	for _, n := range f.People {
		b.total += n
	}
	if reg != nil && reg.People > 0 {
		b.total = reg.People
	}
	b.fired = jpTriggers(f)
	b.used = b.factsUsed()
	return b
}

// NewIndividualNotice gives the content of the notice to each person, for
// the notices campaign's templates.
func NewIndividualNotice(f Facts, ctx DraftContext, reg *RegisterSummary) IndividualNotice {
	return newDraftBase(f, ctx, reg).individualNotice()
}

// Drafts builds every draft the facts call for: the PPC report when APPI
// requires one, the GDPR Art. 33(3) notification when an EU or UK report
// is due, the public statement in Japanese and English, and the content of
// the individual notice. reg may be nil when there is no register yet.
func Drafts(f Facts, ctx DraftContext, reg *RegisterSummary) []Draft {
	b := newDraftBase(f, ctx, reg)
	var out []Draft
	if b.hasDuty("JP-APPI", DutyReportRegulator) {
		out = append(out, b.ppcReport())
	}
	for _, law := range []string{"EU-GDPR", "UK-GDPR"} {
		if b.hasDuty(law, DutyReportRegulator) {
			out = append(out, b.gdprNotification(law))
		}
	}
	n := b.individualNotice()
	out = append(out, b.publicStatement("ja"), b.publicStatement("en"), n.Draft("ja"), n.Draft("en"))
	return out
}

func (b *draftBase) hasDuty(law, duty string) bool {
	for _, d := range b.r.Duties {
		if d.Law == law && d.Duty == duty {
			return true
		}
	}
	return false
}

// jpTriggers runs APPI's triggers alone, for the form's checkboxes.
func jpTriggers(f Facts) map[string]bool {
	s := &situation{f: f, cats: catSet{}, aware: dateIn(f.AwareAt, zoneJST), wrongful: wrongfulPurpose(f)}
	for _, c := range f.Categories {
		s.cats[c] = true
	}
	for _, n := range f.People {
		s.total += n
	}
	idx := -1
	for i, r := range jpAPPI.regimes {
		if !s.aware.before(parseDate(r.from)) {
			idx = i
		}
	}
	fired := map[string]bool{}
	if idx < 0 {
		return fired
	}
	for _, t := range jpAPPI.regimes[idx].triggers {
		fired[t.id] = t.holds(s)
	}
	return fired
}

func (b *draftBase) factsUsed() []string {
	f := b.f
	u := []string{
		"aware_at=" + f.AwareAt.Format(time.RFC3339),
		"cause=" + f.Cause,
		"status=" + f.Status,
		fmt.Sprintf("wrongful_purpose=%v%s", b.wrong, derivedMark(f.WrongfulPurpose == nil)),
		fmt.Sprintf("encrypted=%v", f.Encrypted),
		fmt.Sprintf("in_acquisition=%v", f.InAcquisition),
		"categories=" + strings.Join(f.Categories, ","),
		"people=" + b.peopleList(),
	}
	if f.SpecialCare != nil {
		u = append(u, fmt.Sprintf("special_care=%v", *f.SpecialCare))
	}
	if f.FinancialDamageRisk != nil {
		u = append(u, fmt.Sprintf("financial_damage_risk=%v", *f.FinancialDamageRisk))
	}
	if f.AssessmentConcludedAt != nil {
		u = append(u, "assessment_concluded_at="+f.AssessmentConcludedAt.Format(time.RFC3339))
	}
	if b.reg != nil {
		u = append(u, fmt.Sprintf("register.people=%d", b.reg.People))
	}
	return u
}

func derivedMark(derived bool) string {
	if derived {
		return " (derived from cause)"
	}
	return ""
}

func (b *draftBase) peopleList() string {
	var parts []string
	for _, k := range sortedKeys(b.f.People) {
		parts = append(parts, fmt.Sprintf("%s:%d", k, b.f.People[k]))
	}
	return strings.Join(parts, ",")
}

func (b *draftBase) categoryList(lang string) string {
	labels := categoryEN
	sep := ", "
	if lang == "ja" {
		labels, sep = categoryJA, "、"
	}
	var out []string
	for _, c := range b.f.Categories {
		s := labels[c]
		if b.reg != nil && b.reg.ByCategory[c] > 0 {
			if lang == "ja" {
				s += fmt.Sprintf("（%d名）", b.reg.ByCategory[c])
			} else {
				s += fmt.Sprintf(" (%d people)", b.reg.ByCategory[c])
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, sep)
}

func (b *draftBase) dueOf(law, duty, stage string) string {
	for _, d := range b.r.Duties {
		if d.Law == law && d.Duty == duty && d.Stage == stage {
			if d.Due != nil {
				return d.Due.Format("2006-01-02 15:04 MST")
			}
			return d.DueText
		}
	}
	return ""
}

func jaDate(t time.Time) string {
	t = t.In(zoneJST)
	return fmt.Sprintf("%d年%d月%d日 %02d:%02d", t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute())
}

func box(on bool) string {
	if on {
		return "☑"
	}
	return "☐"
}

// ppcReport lays out the nine items of Rules art. 8(1) as the PPC's
// report form (別記様式第一) orders them.
func (b *draftBase) ppcReport() Draft {
	f := b.f
	stageNote := "速報（規則第8条第1項）: 報告時点で把握している事項を記載。期限 " + b.dueOf("JP-APPI", DutyReportRegulator, Preliminary) +
		"／確報（同条第2項）期限 " + b.dueOf("JP-APPI", DutyReportRegulator, Final)
	summary := b.ctx.Summary
	if summary == "" {
		summary = fmt.Sprintf("%sにより、個人データの漏えい%sが発生した%s。", causeJA[f.Cause],
			map[bool]string{true: "（取得しようとしている個人情報を含む）", false: ""}[f.InAcquisition],
			map[string]string{"suspected": "おそれがある", "confirmed": ""}[f.Status])
	}
	events := fmt.Sprintf("%s 要配慮個人情報（規則第7条第1号）\n%s 財産的被害のおそれ（同第2号）\n%s 不正の目的をもって行われたおそれ（同第3号）\n%s 1,000人を超える漏えい等（同第4号）",
		box(b.fired["special"]), box(b.fired["financial"]), box(b.fired["wrongful"]), box(b.fired["over1000"]))
	count := fmt.Sprintf("%d名", b.total)
	if b.reg == nil {
		count += "（概数。影響範囲の特定作業中）"
	}
	var byCountry []string
	for _, k := range sortedKeys(f.People) {
		byCountry = append(byCountry, fmt.Sprintf("%s: %d名", k, f.People[k]))
	}
	exposure := ""
	if b.reg != nil && len(b.reg.ByExposure) > 0 {
		for _, k := range []string{"exfiltrated", "accessed", "present"} {
			if n := b.reg.ByExposure[k]; n > 0 {
				exposure += fmt.Sprintf("%s: %d名 ", map[string]string{"exfiltrated": "外部送信の痕跡あり", "accessed": "アクセスの痕跡あり", "present": "保存のみ確認"}[k], n)
			}
		}
	}
	enc := "なし"
	if f.Encrypted {
		enc = "あり（高度な暗号化等の措置）"
	}
	individual := b.ctx.IndividualResponse
	if individual == "" && b.reg != nil && len(b.reg.ByChannel) > 0 {
		var parts []string
		for _, k := range sortedKeys(b.reg.ByChannel) {
			parts = append(parts, fmt.Sprintf("%s %d名", map[string]string{"email": "電子メール", "letter": "郵送", "none": "連絡先不明"}[k], b.reg.ByChannel[k]))
		}
		individual = "通知予定（" + strings.Join(parts, "、") + "）"
	}
	other := b.ctx.Other
	var foreign []string
	for _, d := range b.r.Duties {
		if d.Law != "JP-APPI" {
			foreign = append(foreign, fmt.Sprintf("%s %s: %s", d.Law, dutyJA[d.Duty], DueString(d)))
		}
	}
	if len(foreign) > 0 {
		if other != "" {
			other += "\n"
		}
		other += "外国の法令に基づく対応: " + strings.Join(foreign, "／")
	}
	return Draft{
		Name: "ppc-report", Lang: "ja", Title: "個人データの漏えい等の報告書（個人情報保護委員会 宛）",
		Sections: []DraftSection{
			{Heading: "報告者", Fields: []DraftField{labelled("事業者の名称", val(b.ctx.Organization, unknownJA)), labelled("連絡先", val(b.ctx.Contact, unknownJA)), labelled("報告の区分", DraftField{Value: stageNote})}},
			{Heading: "1. 概要", Fields: []DraftField{
				labelled("発覚日時", DraftField{Value: jaDate(f.AwareAt)}),
				labelled("発生日時", val(b.ctx.OccurredAt, unknownJA)),
				labelled("発覚の経緯", val(b.ctx.HowDiscovered, unknownJA)),
				labelled("事案の概要", DraftField{Value: summary}),
				labelled("報告対象事態", DraftField{Value: events}),
			}},
			{Heading: "2. 漏えい等が発生し、又は発生したおそれがある個人データの項目", Fields: []DraftField{
				labelled("項目", val(b.categoryList("ja"), unknownJA)),
				labelled("暗号化等の保護措置", DraftField{Value: enc}),
			}},
			{Heading: "3. 漏えい等が発生し、又は発生したおそれがある個人データに係る本人の数", Fields: []DraftField{
				labelled("本人の数", DraftField{Value: count}),
				labelled("居住国別の内訳", DraftField{Value: strings.Join(byCountry, "、")}),
				labelled("漏えいの状況別", val(exposure, unknownJA)),
			}},
			{Heading: "4. 原因", Fields: []DraftField{
				labelled("原因の区分", DraftField{Value: causeJA[f.Cause]}),
				labelled("詳細", val(b.ctx.CauseDetail, unknownJA)),
			}},
			{Heading: "5. 二次被害又はそのおそれの有無及びその内容", Fields: []DraftField{val(b.ctx.SecondaryHarm, unknownJA)}},
			{Heading: "6. 本人への対応の実施状況", Fields: []DraftField{val(individual, unknownJA)}},
			{Heading: "7. 公表の実施状況", Fields: []DraftField{val(b.ctx.Publication, unknownJA)}},
			{Heading: "8. 再発防止のための措置", Fields: []DraftField{val(b.ctx.Measures, unknownJA)}},
			{Heading: "9. その他参考となる事項", Fields: []DraftField{val(other, unknownJA)}},
		},
		FactsUsed: b.used,
	}
}

// gdprNotification holds the content Art. 33(3) requires, in English.
func (b *draftBase) gdprNotification(law string) Draft {
	f := b.f
	residents := 0
	for code, n := range f.People {
		if (law == "EU-GDPR" && euGDPR.covers(code, f.AwareAt)) || (law == "UK-GDPR" && ukGDPR.covers(code, f.AwareAt)) {
			residents += n
		}
	}
	nature := fmt.Sprintf("A personal data breach (confidentiality) caused by %s, of which the controller became aware on %s. Status: %s.",
		causeEN[f.Cause], f.AwareAt.UTC().Format("2006-01-02 15:04 UTC"), f.Status)
	if b.ctx.Summary != "" {
		nature += " " + b.ctx.Summary
	}
	consequences := "Possible misuse of the data for phishing and fraud."
	if b.hasDuty(law, DutyNotifyIndividuals) {
		consequences = "The breach is likely to result in a high risk to the data subjects (financial loss, identity fraud or disclosure of sensitive data); they are being informed under Art. 34."
	}
	authority := "the lead supervisory authority"
	if law == "UK-GDPR" {
		authority = "the Information Commissioner's Office"
	}
	return Draft{
		Name: strings.ToLower(law) + "-art33", Lang: "en", Title: "Personal data breach notification to " + authority + " (" + law + " Art. 33)",
		Sections: []DraftSection{
			{Heading: "Controller", Fields: []DraftField{labelled("Name", val(b.ctx.Organization, unknownEN)), labelled("Deadline", DraftField{Value: b.dueOf(law, DutyReportRegulator, "")})}},
			{Heading: "(a) Nature of the breach", Fields: []DraftField{
				labelled("Description", DraftField{Value: nature}),
				labelled("Categories of personal data", val(b.categoryList("en"), unknownEN)),
				labelled("Approximate number of data subjects concerned", DraftField{Value: fmt.Sprintf("%d (of %d affected in all)", residents, b.total)}),
				labelled("Approximate number of records concerned", val("", unknownEN)),
			}},
			{Heading: "(b) Contact point", Fields: []DraftField{labelled("Data protection officer or other contact", val(firstNonEmpty(b.ctx.DPO, b.ctx.Contact), unknownEN))}},
			{Heading: "(c) Likely consequences", Fields: []DraftField{val(consequences, unknownEN)}},
			{Heading: "(d) Measures taken or proposed", Fields: []DraftField{val(b.ctx.Measures, unknownEN)}},
			{Heading: "Phased notification (Art. 33(4))", Fields: []DraftField{{Value: "Information not yet available will be provided in phases without undue further delay."}}},
		},
		FactsUsed: b.used,
	}
}

var dutyJA = map[string]string{
	DutyReportRegulator: "当局への報告", DutyNotifyIndividuals: "本人への通知", DutyNotifyOther: "その他の通知", DutyAssess: "通知要否の評価",
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// publicStatement is the 公表文: what happened, what data, how many, what
// the organisation does and where to ask.
func (b *draftBase) publicStatement(lang string) Draft {
	f := b.f
	if lang == "ja" {
		org := firstNonEmpty(b.ctx.Organization, "当社")
		maybe := map[string]string{"suspected": "漏えいした可能性があることが判明しました", "confirmed": "漏えいしたことが判明しました"}[f.Status]
		return Draft{Name: "public-statement-ja", Lang: "ja", Title: "個人情報漏えいに関するお知らせとお詫び",
			Sections: []DraftSection{
				{Heading: "概要", Fields: []DraftField{{Value: fmt.Sprintf("このたび、%sにおいて%sにより、お客様の個人情報が%s。お客様及び関係者の皆様に多大なるご迷惑とご心配をおかけしますことを、深くお詫び申し上げます。", org, causeJA[f.Cause], maybe)}}},
				{Heading: "漏えいのおそれがある個人情報", Fields: []DraftField{labelled("項目", DraftField{Value: b.categoryList("ja")}), labelled("対象者数", DraftField{Value: fmt.Sprintf("%d名", b.total)})}},
				{Heading: "経緯", Fields: []DraftField{labelled("発覚日", DraftField{Value: jaDate(f.AwareAt)}), val(b.ctx.HowDiscovered, unknownJA)}},
				{Heading: "二次被害", Fields: []DraftField{val(b.ctx.SecondaryHarm, unknownJA)}},
				{Heading: "対応", Fields: []DraftField{{Value: "対象のお客様には個別にご連絡いたします。個人情報保護委員会へ報告しております。"}, val(b.ctx.Measures, unknownJA)}},
				{Heading: "お問い合わせ窓口", Fields: []DraftField{val(b.ctx.Contact, unknownJA)}},
			}, FactsUsed: b.used}
	}
	org := firstNonEmpty(b.ctx.Organization, "We")
	maybe := map[string]string{"suspected": "may have been exposed", "confirmed": "was exposed"}[f.Status]
	return Draft{Name: "public-statement-en", Lang: "en", Title: "Notice of a personal data incident",
		Sections: []DraftSection{
			{Heading: "What happened", Fields: []DraftField{{Value: fmt.Sprintf("%s found that, through %s, personal information of our customers %s. We sincerely apologise for the concern and inconvenience this causes.", org, causeEN[f.Cause], maybe)}}},
			{Heading: "What information was involved", Fields: []DraftField{labelled("Items", DraftField{Value: b.categoryList("en")}), labelled("People affected", DraftField{Value: fmt.Sprintf("%d", b.total)})}},
			{Heading: "Timeline", Fields: []DraftField{labelled("Discovered", DraftField{Value: f.AwareAt.UTC().Format("2006-01-02 15:04 UTC")}), val(b.ctx.HowDiscovered, unknownEN)}},
			{Heading: "What we are doing", Fields: []DraftField{{Value: "We are contacting each affected person and have reported the incident to the regulators concerned."}, val(b.ctx.Measures, unknownEN)}},
			{Heading: "Contact", Fields: []DraftField{val(b.ctx.Contact, unknownEN)}},
		}, FactsUsed: b.used}
}

// IndividualNotice is the content the law requires in a notice to each
// person: the items of Rules art. 10 (art. 8(1) items 1, 2, 4, 5 and 9),
// which also cover GDPR Art. 34(2) and the headings of Civ. Code
// 1798.82(d). Its JSON names match the notices campaign's facts
// (organization, summary, cause, secondary_harm, contact, other), so a
// campaign can take it as it is.
type IndividualNotice struct {
	Organization string `json:"organization"`
	// Summary is 概要 (item 1), in Japanese; SummaryEN the English text.
	Summary   string `json:"summary"`
	SummaryEN string `json:"summary_en"`
	// Items are the category names of the data concerned (item 2).
	Items []string `json:"items"`
	// Cause is 原因 (item 4); CauseEN the English text.
	Cause   string `json:"cause"`
	CauseEN string `json:"cause_en"`
	// SecondaryHarm is 二次被害又はそのおそれの有無及びその内容 (item 5).
	SecondaryHarm string `json:"secondary_harm"`
	// Other is その他参考となる事項 (item 9), such as what the person can do.
	Other     string    `json:"other"`
	Contact   string    `json:"contact"`
	AwareAt   time.Time `json:"aware_at"`
	FactsUsed []string  `json:"facts_used"`
}

// individualNotice builds the notice content from the facts and context.
func (b *draftBase) individualNotice() IndividualNotice {
	f := b.f
	n := IndividualNotice{
		Organization:  b.ctx.Organization,
		Summary:       fmt.Sprintf("%sにより、お客様の個人情報が%s。", causeJA[f.Cause], map[string]string{"suspected": "漏えいした可能性があります", "confirmed": "漏えいしました"}[f.Status]),
		SummaryEN:     fmt.Sprintf("Through %s, your personal information %s.", causeEN[f.Cause], map[string]string{"suspected": "may have been exposed", "confirmed": "was exposed"}[f.Status]),
		Items:         append([]string(nil), f.Categories...),
		Cause:         firstNonEmpty(b.ctx.CauseDetail, causeJA[f.Cause]),
		CauseEN:       causeEN[f.Cause],
		SecondaryHarm: b.ctx.SecondaryHarm,
		Other:         b.ctx.Other,
		Contact:       b.ctx.Contact,
		AwareAt:       f.AwareAt,
		FactsUsed:     b.used,
	}
	if n.Other == "" && b.cats.has("credit_card") {
		n.Other = "カード会社にカードの利用停止・再発行をご相談ください。身に覚えのない請求がないかご確認ください。"
	} else if n.Other == "" && b.cats.has("password", "security_qa") {
		n.Other = "同じパスワードを他のサービスでお使いの場合は、変更をお願いいたします。"
	}
	return n
}

// Draft renders the notice content in Japanese or English.
func (n IndividualNotice) Draft(lang string) Draft {
	if lang == "ja" {
		var items []string
		for _, c := range n.Items {
			items = append(items, categoryJA[c])
		}
		return Draft{Name: "individual-notice-ja", Lang: "ja", Title: "個人情報の漏えい等に関するご通知（個人情報保護法施行規則第10条の事項）",
			Sections: []DraftSection{
				{Heading: "1. 概要", Fields: []DraftField{{Value: n.Summary}, labelled("発覚日時", DraftField{Value: jaDate(n.AwareAt)})}},
				{Heading: "2. 漏えい等が発生し、又は発生したおそれがある個人データの項目", Fields: []DraftField{{Value: strings.Join(items, "、")}}},
				{Heading: "3. 原因", Fields: []DraftField{{Value: n.Cause}}},
				{Heading: "4. 二次被害又はそのおそれの有無及びその内容", Fields: []DraftField{val(n.SecondaryHarm, unknownJA)}},
				{Heading: "5. その他参考となる事項", Fields: []DraftField{val(n.Other, unknownJA), labelled("お問い合わせ窓口", val(n.Contact, unknownJA))}},
			}, FactsUsed: n.FactsUsed}
	}
	var items []string
	for _, c := range n.Items {
		items = append(items, categoryEN[c])
	}
	return Draft{Name: "individual-notice-en", Lang: "en", Title: "Notice of a data breach involving your personal information",
		Sections: []DraftSection{
			{Heading: "What happened", Fields: []DraftField{{Value: n.SummaryEN}, labelled("Discovered", DraftField{Value: n.AwareAt.UTC().Format("2006-01-02 15:04 UTC")})}},
			{Heading: "What information was involved", Fields: []DraftField{{Value: strings.Join(items, ", ")}}},
			{Heading: "Cause", Fields: []DraftField{{Value: n.CauseEN}}},
			{Heading: "Possible consequences", Fields: []DraftField{val("", unknownEN)}},
			{Heading: "What you can do / For more information", Fields: []DraftField{labelled("Contact", val(n.Contact, unknownEN))}},
		}, FactsUsed: n.FactsUsed}
}

// Markdown renders a draft for review in any editor.
func (d Draft) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", d.Title)
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "\n## %s\n\n", s.Heading)
		for _, f := range s.Fields {
			v := f.Value
			if f.Unknown {
				v = "**" + v + "**"
			}
			v = strings.ReplaceAll(v, "\n", "  \n  ")
			if f.Label != "" {
				fmt.Fprintf(&b, "- %s: %s\n", f.Label, v)
			} else {
				fmt.Fprintf(&b, "%s\n", v)
			}
		}
	}
	b.WriteString("\n---\n\n")
	if d.Lang == "ja" {
		b.WriteString("使用した事実 (facts used):\n\n")
	} else {
		b.WriteString("Facts used:\n\n")
	}
	for _, u := range d.FactsUsed {
		fmt.Fprintf(&b, "- `%s`\n", u)
	}
	return b.String()
}

// JSON renders a draft as an indented JSON document.
func (d Draft) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
