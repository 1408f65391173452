package scopeapi

import (
	"cmp"
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

// personValues reads the raw values of the records the resolver built a
// person from. Of a record naming several people only the value that is
// this person's is shown.
func (s *Service) personValues(r *http.Request, b *built, p *scope.Person) ([]RevealValue, error) {
	// only maps a record to the one normalised value it gives this person
	// ("" for the whole record).
	only := map[string]map[string]bool{}
	for _, ref := range b.res.Records(p) {
		if ref.Source.Master {
			continue
		}
		k := ref.Source.Name() + "#" + strconv.Itoa(ref.Record)
		if only[k] == nil {
			only[k] = map[string]bool{}
		}
		only[k][ref.Key+"\x00"+ref.Only] = true
	}
	type rv struct {
		cat, val string
		src      []string
	}
	var vals []rv
	idx := map[[2]string]int{}
	for _, f := range b.files {
		prefix := f.HostID + ":" + f.Path
		if !slices.ContainsFunc(p.Sources, func(src string) bool { return src == prefix || strings.HasPrefix(src, prefix+"!") }) {
			continue
		}
		err := s.st.PIIValues(r.Context(), f.ID, func(v store.PIIValue) error {
			k := (&scope.Source{Host: f.HostID, Path: f.Path, Member: v.Member}).Name() + "#" + strconv.Itoa(v.Record)
			keys := only[k]
			if keys == nil {
				return nil
			}
			val, err := s.keys.open(v.Category, v.Sealed)
			if err != nil {
				return err
			}
			if !keys["\x00"] && !keys[v.Category+"\x00"+normalFor(v.Category, val, v.Country)] {
				return nil
			}
			cv := [2]string{v.Category, val}
			i, ok := idx[cv]
			if !ok {
				i = len(vals)
				idx[cv] = i
				vals = append(vals, rv{cat: cv[0], val: cv[1]})
			}
			if !slices.Contains(vals[i].src, k) {
				vals[i].src = append(vals[i].src, k)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for i := range vals {
		slices.Sort(vals[i].src)
	}
	out := make([]RevealValue, len(vals))
	for i, v := range vals {
		out[i] = RevealValue{Category: v.cat, Value: v.val, Sources: v.src}
	}
	slices.SortStableFunc(out, func(a, b RevealValue) int {
		return cmp.Or(strings.Compare(a.Category, b.Category), strings.Compare(a.Value, b.Value))
	})
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

// normalFor is a value as the resolver keys it, to tell which value of a
// record naming several people is the person's.
func normalFor(category, v, country string) string {
	switch category {
	case "email":
		return scope.NormalizeEmail(v)
	case "phone":
		return scope.NormalizePhone(v, cmp.Or(country, "JP"))
	case "my_number":
		return scope.NormalizeMyNumber(v)
	case "credit_card":
		return scope.NormalizeCard(v)
	case "passport", "drivers_license":
		return scope.NormalizeID(v)
	}
	return v
}
