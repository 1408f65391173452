package scopeapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

func jsonUnmarshal(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("scope: stored JSON: %w", err)
	}
	return nil
}

// recordOf splits a merge note's node name, host:path!member#record.
func recordOf(name string) (src string, rec int, ok bool) {
	i := strings.LastIndexByte(name, '#')
	if i < 0 || strings.HasPrefix(name, "master:") {
		return "", 0, false
	}
	rec, err := strconv.Atoi(name[i+1:])
	return name[:i], rec, err == nil
}

// personValues reads the raw values of a person's records. The records
// are the ends of the person's merges; a person of one record has none,
// and its record is the one of its source whose values include the
// person's name or contact values.
func (s *Service) personValues(r *http.Request, b *built, p *scope.Person) ([]RevealValue, error) {
	recs := map[string]bool{}
	for _, m := range b.res.MergeNotes(p) {
		for _, n := range []string{m.A, m.B} {
			if src, rec, ok := recordOf(n); ok {
				recs[src+"#"+strconv.Itoa(rec)] = true
			}
		}
	}
	own := []string{p.Name, p.Email, p.Phone, p.Address, p.PostalCode}
	type rv struct {
		cat, val string
		src      []string
	}
	var vals []rv
	idx := map[[2]string]int{}
	byRecord := map[string][][2]string{}
	for _, f := range b.files {
		prefix := f.HostID + ":" + f.Path
		if !slices.ContainsFunc(p.Sources, func(src string) bool { return src == prefix || strings.HasPrefix(src, prefix+"!") }) {
			continue
		}
		err := s.st.PIIValues(r.Context(), f.ID, func(v store.PIIValue) error {
			src := (&scope.Source{Host: f.HostID, Path: f.Path, Member: v.Member}).Name()
			if !slices.Contains(p.Sources, src) {
				return nil
			}
			val, err := s.keys.open(v.Category, v.Sealed)
			if err != nil {
				return err
			}
			k := src + "#" + strconv.Itoa(v.Record)
			byRecord[k] = append(byRecord[k], [2]string{v.Category, val})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(recs) == 0 {
		for k, vs := range byRecord {
			if slices.ContainsFunc(vs, func(cv [2]string) bool {
				return slices.ContainsFunc(own, func(o string) bool { return o != "" && strings.EqualFold(o, cv[1]) })
			}) {
				recs[k] = true
			}
		}
	}
	keys := make([]string, 0, len(recs))
	for k := range recs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, cv := range byRecord[k] {
			i, ok := idx[cv]
			if !ok {
				i = len(vals)
				idx[cv] = i
				vals = append(vals, rv{cat: cv[0], val: cv[1]})
			}
			if !slices.Contains(vals[i].src, k) {
				vals[i].src = append(vals[i].src, k)
			}
		}
	}
	out := make([]RevealValue, len(vals))
	for i, v := range vals {
		out[i] = RevealValue{Category: v.cat, Value: v.val, Sources: v.src}
	}
	slices.SortStableFunc(out, func(a, b RevealValue) int { return strings.Compare(a.Category, b.Category) })
	return out, nil
}

func (s *Service) reveal(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, pid := r.PathValue("id"), r.PathValue("pid")
	var body ReasonRequest
	if err := httpapi.DecodeBody(r, 1<<16, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := needReason(body.Reason); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	b, err := s.incidentRegister(ctx, id)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	p := b.byID[pid]
	if p == nil {
		httpapi.Fail(w, r, fmt.Errorf("person %s of incident %s: %w", pid, id, store.ErrNotFound))
		return
	}
	vals, err := s.personValues(r, b, p)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	var cats []string
	for _, v := range vals {
		if !slices.Contains(cats, v.Category) {
			cats = append(cats, v.Category)
		}
	}
	now := s.now()
	// The audit entry commits before the values leave.
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "scope.reveal", id+"/"+pid, body.Reason, "categories "+strings.Join(cats, ",")))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, RevealView{ID: p.ID, Name: p.Name, Email: p.Email, Phone: p.Phone, Address: p.Address,
		PostalCode: p.PostalCode, Values: nonNil(vals)})
}
