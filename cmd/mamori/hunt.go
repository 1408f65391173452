package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/hunt"
	"github.com/mamori-dev/mamori/internal/sigma"
	"golang.org/x/term"
)

func init() {
	register("hunt", "hunt through Windows event logs and Linux logs with Sigma rules", runHunt)
}

const huntUsage = `usage: mamori hunt [flags] PATH...

Reads every log under PATH (EVTX, JSON/JSONL exports, journal, auth/secure,
syslog, auditd, web access logs, shell histories; .gz and .zip in place;
formats detected by content) and evaluates each event against Sigma rules.
With no --sigma, mamori's embedded rule set is used (see README).

Exit status: 0 no hits, 1 hits, 2 usage or configuration error.

flags:
`

func runHunt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hunt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, huntUsage)
		fs.PrintDefaults()
	}
	var (
		rulePaths  multiFlag
		phFlags    multiFlag
		minLevel   = fs.String("min-level", "informational", "drop hits below `level`: informational, low, medium, high or critical")
		fromFlag   = fs.String("from", "", "skip events before `time` (RFC 3339, or 2006-01-02[T15:04:05] in UTC)")
		toFlag     = fs.String("to", "", "skip events after `time`")
		timeline   = fs.Bool("timeline", false, "write every event in time order, hits annotated, as Timesketch CSV instead of the hits")
		format     = fs.String("format", "text", "output `format`: text, json, ndjson or csv")
		threads    = fs.Int("threads", 0, "matching goroutines (default GOMAXPROCS)")
		noProgress = fs.Bool("no-progress", false, "no progress line, even on a terminal")
	)
	fs.Var(&rulePaths, "sigma", "Sigma rule `file or directory`; repeatable (default: the embedded rule set)")
	fs.Var(&phFlags, "placeholder", "values for a rule's %NAME% placeholder, as `NAME=VALUE[,VALUE]`; repeatable (unset placeholders match nothing)")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mamori hunt: "+format+"\n", a...)
		return 2
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "mamori hunt: no PATH given")
		fs.Usage()
		return 2
	}
	switch *format {
	case "text", "json", "ndjson", "csv":
	default:
		return usageErr("--format %q: want text, json, ndjson or csv", *format)
	}
	if sigma.LevelRank(*minLevel) < 0 {
		return usageErr("--min-level %q: want one of %s", *minLevel, strings.Join(sigma.Levels, ", "))
	}
	from, err := parseHuntTime(*fromFlag)
	if err != nil {
		return usageErr("--from: %v", err)
	}
	to, err := parseHuntTime(*toFlag)
	if err != nil {
		return usageErr("--to: %v", err)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return usageErr("--to is before --from")
	}

	placeholders, err := parsePlaceholders(phFlags)
	if err != nil {
		return usageErr("--placeholder %v", err)
	}
	sopts := sigma.Options{Placeholders: placeholders}
	var rules *sigma.Ruleset
	if len(rulePaths) == 0 {
		rules = hunt.DefaultRules(sopts)
	} else {
		rules = sigma.New(sopts)
		for _, p := range rulePaths {
			if err := rules.AddPath(p); err != nil {
				return usageErr("%v", err)
			}
		}
		rules.Build()
	}
	for _, r := range rules.Refused {
		fmt.Fprintf(stderr, "mamori hunt: rule refused: %s\n", r)
	}
	fmt.Fprintf(stderr, "mamori hunt: %d rules and %d correlations loaded, %d refused\n", len(rules.Rules), len(rules.Correlations), len(rules.Refused))
	if len(rules.Rules) == 0 {
		return usageErr("no rule loaded")
	}

	opts := hunt.Options{Rules: rules, MinLevel: *minLevel, From: from, To: to, Workers: *threads}
	var out *bufio.Writer
	if *timeline {
		out = bufio.NewWriterSize(stdout, 1<<20)
		opts.Timeline = out
	}
	var prog *huntProgress
	if f, ok := stderr.(*os.File); ok && !*noProgress && term.IsTerminal(int(f.Fd())) {
		prog = &huntProgress{w: stderr}
		opts.Progress = prog.update
	}
	res, err := hunt.Run(ctx, paths, opts)
	prog.clear()
	if err != nil {
		fmt.Fprintln(stderr, "mamori hunt:", err)
		return 2
	}
	defer res.Close()
	if *timeline {
		if err := out.Flush(); err != nil {
			fmt.Fprintln(stderr, "mamori hunt: writing the timeline:", err)
			return 2
		}
		for _, e := range res.Errors {
			fmt.Fprintln(stderr, "mamori hunt: error:", errorText(e))
		}
		fmt.Fprintln(stderr, "mamori hunt:", summaryText(res))
	} else if err := writeHuntResult(stdout, *format, res); err != nil {
		fmt.Fprintln(stderr, "mamori hunt: writing output:", err)
		return 2
	}
	if res.HitCount > 0 {
		return 1
	}
	return 0
}

// parsePlaceholders reads NAME=VALUE[,VALUE] flags; repeating a NAME adds
// values.
func parsePlaceholders(flags []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, f := range flags {
		name, vals, ok := strings.Cut(f, "=")
		name = strings.Trim(strings.TrimSpace(name), "%")
		if !ok || name == "" || vals == "" {
			return nil, fmt.Errorf("%q: want NAME=VALUE[,VALUE]", f)
		}
		out[name] = append(out[name], strings.Split(vals, ",")...)
	}
	return out, nil
}

func parseHuntTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-11-29T20:00:00Z) or 2026-11-29[T20:00:00] in UTC", s)
}

type huntSummary struct {
	Type    string         `json:"type"` // "summary"
	Files   int            `json:"files"`
	Skipped int            `json:"skipped"`
	Events  int64          `json:"events"`
	Bytes   int64          `json:"bytes"`
	Hits    int            `json:"hits"`
	Levels  map[string]int `json:"levels"`
	Errors  int            `json:"errors"`
	Seconds float64        `json:"seconds"`
}

func summarize(res *hunt.Result) huntSummary {
	return huntSummary{Type: "summary", Files: res.Files, Skipped: res.Skipped, Events: res.Events, Bytes: res.Bytes,
		Hits: res.HitCount, Levels: res.Levels, Errors: len(res.Errors), Seconds: res.Elapsed.Seconds()}
}

func summaryText(res *hunt.Result) string {
	s := summarize(res)
	var lv []string
	for i := len(sigma.Levels) - 1; i >= 0; i-- {
		if n := s.Levels[sigma.Levels[i]]; n > 0 {
			lv = append(lv, fmt.Sprintf("%d %s", n, sigma.Levels[i]))
		}
	}
	hits := fmt.Sprintf("%d hits", s.Hits)
	if len(lv) > 0 {
		hits += " (" + strings.Join(lv, ", ") + ")"
	}
	return fmt.Sprintf("%d log files (%d other files skipped), %d events, %s in %.1fs: %s, %d errors",
		s.Files, s.Skipped, s.Events, humanBytes(s.Bytes), s.Seconds, hits, s.Errors)
}

func errorText(e hunt.FileError) string {
	if e.Offset >= 0 {
		return fmt.Sprintf("%s: offset %d: %s", e.File, e.Offset, e.Error)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Error)
}

func writeHuntResult(w io.Writer, format string, res *hunt.Result) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	// Hits are streamed (a dense hunt can have millions, spilled to disk),
	// except for text, which groups them by rule.
	switch format {
	case "ndjson":
		enc := json.NewEncoder(bw)
		if err := res.EachHit(func(h hunt.Hit) error { return enc.Encode(h) }); err != nil {
			return err
		}
		for _, e := range res.Errors {
			enc.Encode(e)
		}
		enc.Encode(summarize(res))
	case "json":
		// The elements of an indented array, one at a time.
		sep := "[\n  "
		elem := func(v any) error {
			b, err := json.MarshalIndent(v, "  ", "  ")
			if err != nil {
				return err
			}
			bw.WriteString(sep)
			bw.Write(b)
			sep = ",\n  "
			return nil
		}
		if err := res.EachHit(func(h hunt.Hit) error { return elem(h) }); err != nil {
			return err
		}
		for _, e := range res.Errors {
			elem(e)
		}
		elem(summarize(res))
		bw.WriteString("\n]\n")
	case "csv":
		cw := csv.NewWriter(bw)
		cw.Write([]string{"time", "level", "rule", "rule_id", "attack", "computer", "channel", "provider", "event_id", "source", "record", "matched"})
		err := res.EachHit(func(h hunt.Hit) error {
			eid := ""
			if h.Channel != "" {
				eid = strconv.FormatInt(h.EventID, 10)
			}
			return cw.Write([]string{h.Time.UTC().Format(time.RFC3339Nano), h.Level, h.Rule, h.RuleID, strings.Join(h.Attack, " "),
				h.Computer, h.Channel, h.Provider, eid, h.Source, strconv.FormatUint(h.Record, 10), matchedText(h.Matched)})
		})
		if err != nil {
			return err
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	default:
		var hits []hunt.Hit
		if err := res.EachHit(func(h hunt.Hit) error { hits = append(hits, h); return nil }); err != nil {
			return err
		}
		writeHuntText(bw, hits, res)
	}
	return bw.Flush()
}

func matchedText(m []sigma.FieldMatch) string {
	parts := make([]string, len(m))
	for i, f := range m {
		parts[i] = f.Field + "=" + f.Value
	}
	return strings.Join(parts, " ")
}

// writeHuntText groups hits by level, most severe first, and within a level
// by rule (most hits first), each hit on one line in time order.
func writeHuntText(w io.Writer, all []hunt.Hit, res *hunt.Result) {
	for li := len(sigma.Levels) - 1; li >= 0; li-- {
		level := sigma.Levels[li]
		byRule := map[string][]hunt.Hit{}
		var order []string
		n := 0
		for _, h := range all {
			if h.Level != level {
				continue
			}
			key := h.RuleFile + "\x00" + h.Rule
			if _, ok := byRule[key]; !ok {
				order = append(order, key)
			}
			byRule[key] = append(byRule[key], h)
			n++
		}
		if n == 0 {
			continue
		}
		sort.SliceStable(order, func(i, j int) bool { return len(byRule[order[i]]) > len(byRule[order[j]]) })
		fmt.Fprintf(w, "%s: %d hits\n", strings.ToUpper(level), n)
		for _, key := range order {
			hits := byRule[key]
			h0 := hits[0]
			tags := ""
			if len(h0.Attack) > 0 {
				tags = " [" + strings.Join(h0.Attack, " ") + "]"
			}
			fmt.Fprintf(w, "  %d × %s (%s)%s\n", len(hits), h0.Rule, h0.RuleFile, tags)
			for _, h := range hits {
				fmt.Fprintf(w, "    %s  %s\n", h.Time.UTC().Format("2006-01-02 15:04:05"), hitWhere(h))
			}
		}
	}
	for _, e := range res.Errors {
		fmt.Fprintln(w, "error:", errorText(e))
	}
	fmt.Fprintln(w, summaryText(res))
}

func hitWhere(h hunt.Hit) string {
	var parts []string
	if h.Computer != "" {
		parts = append(parts, h.Computer)
	}
	if h.Channel != "" {
		parts = append(parts, fmt.Sprintf("%s/%d", h.Channel, h.EventID))
	}
	if h.Correlate != nil {
		parts = append(parts, fmt.Sprintf("%s of %d over %s", h.Correlate.Kind, h.Correlate.Count, h.Time.Sub(h.Correlate.Start)))
	}
	if h.Source != "" {
		parts = append(parts, fmt.Sprintf("%s#%d", h.Source, h.Record))
	}
	if m := matchedText(h.Matched); m != "" {
		parts = append(parts, m)
	}
	return strings.Join(parts, "  ")
}

// huntProgress draws one self-overwriting status line on a terminal.
type huntProgress struct {
	w io.Writer
}

func (p *huntProgress) update(s hunt.Progress) {
	rate := 0.0
	if s.Seconds > 0 {
		rate = float64(s.Bytes) / s.Seconds
	}
	fmt.Fprintf(p.w, "\r\033[K%d/%d files  %s/%s  %d events  %d hits  %s/s", s.Files, s.FilesQueued,
		humanBytes(s.Bytes), humanBytes(s.BytesQueued), s.Events, s.Hits, humanBytes(int64(rate)))
}

func (p *huntProgress) clear() {
	if p != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
