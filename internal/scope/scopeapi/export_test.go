package scopeapi

import (
	"context"
	"encoding/json"
	"time"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/store"
)

// Rebuild builds an incident's register from the store, bypassing the
// cache, and reports how long it took and how many people and values.
func (s *Service) Rebuild(ctx context.Context, incidentID string) (took time.Duration, people, values int, err error) {
	auto, err := s.autoRules(ctx, incidentID)
	if err != nil {
		return 0, 0, 0, err
	}
	b, err := s.build(ctx, incidentID, auto)
	if err != nil {
		return 0, 0, 0, err
	}
	return b.took, len(b.reg.People), b.occurrences, nil
}

// BuildAndReference builds an incident's register as the server does and,
// as the reference, one value at a time from each file's values in turn;
// both come back as JSON of the register, sources and value count.
func (s *Service) BuildAndReference(ctx context.Context, incidentID string) (got, want []byte, err error) {
	auto, err := s.autoRules(ctx, incidentID)
	if err != nil {
		return nil, nil, err
	}
	b, err := s.build(ctx, incidentID, auto)
	if err != nil {
		return nil, nil, err
	}
	got, err = json.Marshal(registerOf(b.reg, b.res, b.occurrences))
	if err != nil {
		return nil, nil, err
	}
	files, err := s.st.IncidentPIIFiles(ctx, incidentID)
	if err != nil {
		return nil, nil, err
	}
	manual, err := s.manualRules(ctx, incidentID)
	if err != nil {
		return nil, nil, err
	}
	r := scope.NewResolver(scope.Options{Key: s.keys.person, Country: s.country})
	n := 0
	for _, f := range files {
		var flags []scope.FileFlag
		if err := json.Unmarshal([]byte(f.Flags), &flags); err != nil {
			return nil, nil, err
		}
		for _, fl := range flags {
			src := fileSource(manual, b.auto, &f, fl.Member)
			switch fl.Flag {
			case "special_care":
				src.SpecialCare = fl.Terms
			case "credentials":
				src.Credentials = true
			}
			r.Source(src)
		}
		last, lastMember := int32(-1), ""
		err := s.st.PIIValues(ctx, f.ID, func(v store.PIIValue) error {
			val, err := s.keys.open(v.Category, v.Sealed)
			if err != nil {
				return err
			}
			if last < 0 || v.Member != lastMember {
				last, lastMember = r.Source(fileSource(manual, b.auto, &f, v.Member)), v.Member
			}
			r.AddCountry(last, v.Record, v.Category, val, v.Country)
			n++
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	r.Resolve()
	want, err = json.Marshal(registerOf(r.Register(), r, n))
	return got, want, err
}

func registerOf(reg *scope.Register, r *scope.Resolver, values int) any {
	return struct {
		Register *scope.Register
		Sources  []scope.Source
		Values   int
	}{reg, r.Sources(), values}
}
