package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ErrUnreadableSource marks a rule refused because mamori has no reader
// for its log source (cloud audit logs, network devices, ...).
var ErrUnreadableSource = errors.New("no mamori reader for this log source")

// Levels in increasing severity.
var Levels = []string{"informational", "low", "medium", "high", "critical"}

// LevelRank orders levels; an unknown level ranks below informational.
func LevelRank(level string) int {
	for i, l := range Levels {
		if l == level {
			return i
		}
	}
	return -1
}

// Rule is one detection or correlation rule, compiled.
type Rule struct {
	ID, Name, Title, Status, Level, Description, Author, Date string
	Tags                                                      []string
	Logsource                                                 Logsource
	File                                                      string
	Correlation                                               *Correlation

	src      sourceSpec
	searches []*search
	names    []string
	cond     cond
	index    int
	// suppressed is set on rules a correlation references without
	// generate: their hits feed the correlation only.
	suppressed bool
	correlated bool      // referenced by some correlation
	needles    []int32   // prefilter: one of these must occur (nil: always evaluate)
	clauses    [][]int32 // and one of each of these
}

// Correlation holds a correlation rule's parameters.
type Correlation struct {
	Type     string // event_count, value_count, temporal, temporal_ordered
	Rules    []string
	GroupBy  []string
	Timespan time.Duration
	Op       string // gt, gte, lt, lte, eq
	Count    int64
	Field    string
	Aliases  map[string]map[string]string // alias -> rule name -> field
	Generate bool

	refs []*Rule
}

// Refusal is a rule that did not load, and why.
type Refusal struct {
	File   string
	Title  string
	Reason string
}

func (r Refusal) String() string { return r.File + ": " + r.Reason }

// parseFile reads every YAML document of one rule file.
func parseFile(name string, data []byte, c *compiler) ([]*Rule, []Refusal) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var rules []*Rule
	var refused []Refusal
	for doc := 0; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			refused = append(refused, Refusal{File: name, Reason: "YAML: " + err.Error()})
			break
		}
		if n.Kind != yaml.DocumentNode || len(n.Content) == 0 {
			continue
		}
		r, err := parseRule(n.Content[0], c)
		if err != nil {
			title := ""
			if r != nil {
				title = r.Title
			}
			refused = append(refused, Refusal{File: name, Title: title, Reason: err.Error()})
			if errors.Is(err, errBadYAML) {
				break
			}
			continue
		}
		r.File = name
		rules = append(rules, r)
	}
	return rules, refused
}

var errBadYAML = errors.New("document is not a map")

func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

func stringList(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, e := range n.Content {
		if e.Kind == yaml.ScalarNode {
			out = append(out, e.Value)
		}
	}
	return out
}

var ruleIDRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func parseRule(n *yaml.Node, c *compiler) (*Rule, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errBadYAML
	}
	r := &Rule{
		ID:          scalar(mapGet(n, "id")),
		Name:        scalar(mapGet(n, "name")),
		Title:       scalar(mapGet(n, "title")),
		Status:      scalar(mapGet(n, "status")),
		Level:       strings.ToLower(scalar(mapGet(n, "level"))),
		Description: scalar(mapGet(n, "description")),
		Author:      scalar(mapGet(n, "author")),
		Date:        scalar(mapGet(n, "date")),
		Tags:        stringList(mapGet(n, "tags")),
	}
	if scalar(mapGet(n, "action")) != "" {
		return r, errors.New("Sigma 1 rule collection (action:) is not Sigma 2")
	}
	if r.Title == "" {
		return r, errors.New("no title")
	}
	if r.ID != "" && !ruleIDRE.MatchString(r.ID) {
		return r, fmt.Errorf("id %q is not a UUID", r.ID)
	}
	if r.Level != "" && LevelRank(r.Level) < 0 {
		return r, fmt.Errorf("unknown level %q", r.Level)
	}
	if cn := mapGet(n, "correlation"); cn != nil {
		corr, err := parseCorrelation(cn)
		if err != nil {
			return r, fmt.Errorf("correlation: %w", err)
		}
		r.Correlation = corr
		return r, nil
	}
	if mapGet(n, "filter") != nil {
		return r, errors.New("Sigma filter documents are not detection rules")
	}
	ls := mapGet(n, "logsource")
	if ls == nil {
		return r, errors.New("no logsource")
	}
	r.Logsource = Logsource{
		Product:  scalar(mapGet(ls, "product")),
		Category: scalar(mapGet(ls, "category")),
		Service:  scalar(mapGet(ls, "service")),
	}
	det := mapGet(n, "detection")
	if det == nil || det.Kind != yaml.MappingNode {
		return r, errors.New("no detection map")
	}
	var condNode *yaml.Node
	for i := 0; i+1 < len(det.Content); i += 2 {
		k, v := det.Content[i].Value, det.Content[i+1]
		switch k {
		case "condition":
			condNode = v
		case "timeframe":
			return r, errors.New("detection timeframe is Sigma 1 syntax; use a correlation rule")
		default:
			s, err := c.search(v)
			if err != nil {
				return r, fmt.Errorf("detection %s: %w", k, err)
			}
			r.names = append(r.names, k)
			r.searches = append(r.searches, s)
		}
	}
	if condNode == nil {
		return r, errors.New("detection has no condition")
	}
	conds := stringList(condNode)
	if len(conds) == 0 {
		return r, errors.New("empty condition")
	}
	var alts condOr
	for _, cs := range conds {
		cd, err := parseCondition(cs, r.names)
		if err != nil {
			return r, fmt.Errorf("condition %q: %w", cs, err)
		}
		alts = append(alts, cd)
	}
	if len(alts) == 1 {
		r.cond = alts[0]
	} else {
		r.cond = alts
	}
	src, err := compileLogsource(r.Logsource)
	if err != nil {
		return r, err
	}
	r.src = src
	return r, nil
}

func parseCorrelation(n *yaml.Node) (*Correlation, error) {
	c := &Correlation{
		Type:    scalar(mapGet(n, "type")),
		Rules:   stringList(mapGet(n, "rules")),
		GroupBy: stringList(mapGet(n, "group-by")),
	}
	switch c.Type {
	case "event_count", "value_count", "temporal", "temporal_ordered":
	default:
		return nil, fmt.Errorf("unknown type %q", c.Type)
	}
	if len(c.Rules) == 0 {
		return nil, errors.New("no rules")
	}
	ts, err := parseTimespan(scalar(mapGet(n, "timespan")))
	if err != nil {
		return nil, err
	}
	c.Timespan = ts
	if g := scalar(mapGet(n, "generate")); g != "" {
		c.Generate, err = strconv.ParseBool(g)
		if err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
	}
	if an := mapGet(n, "aliases"); an != nil && an.Kind == yaml.MappingNode {
		c.Aliases = map[string]map[string]string{}
		for i := 0; i+1 < len(an.Content); i += 2 {
			m := map[string]string{}
			v := an.Content[i+1]
			for j := 0; j+1 < len(v.Content); j += 2 {
				m[v.Content[j].Value] = v.Content[j+1].Value
			}
			c.Aliases[an.Content[i].Value] = m
		}
	}
	cn := mapGet(n, "condition")
	switch {
	case cn == nil && (c.Type == "temporal" || c.Type == "temporal_ordered"):
		c.Op, c.Count = "gte", int64(len(c.Rules))
	case cn == nil:
		return nil, errors.New("no condition")
	default:
		for i := 0; i+1 < len(cn.Content); i += 2 {
			k, v := cn.Content[i].Value, cn.Content[i+1].Value
			switch k {
			case "gt", "gte", "lt", "lte", "eq":
				if c.Op != "" {
					return nil, errors.New("condition has two comparisons")
				}
				c.Op = k
				c.Count, err = strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("condition %s: %w", k, err)
				}
			case "field":
				c.Field = v
			default:
				return nil, fmt.Errorf("condition: unknown key %q", k)
			}
		}
		if c.Op == "" {
			return nil, errors.New("condition has no comparison")
		}
	}
	if c.Type == "value_count" && c.Field == "" {
		return nil, errors.New("value_count needs condition field")
	}
	return c, nil
}

// parseTimespan reads Sigma timespans: a number and s, m, h, d, w or M.
func parseTimespan(s string) (time.Duration, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("timespan %q: want a number and a unit (s, m, h, d)", s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("timespan %q: want a positive number and a unit", s)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour, 'M': 30 * 24 * time.Hour, 'y': 365 * 24 * time.Hour}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("timespan %q: unknown unit", s)
	}
	return time.Duration(n) * unit, nil
}
