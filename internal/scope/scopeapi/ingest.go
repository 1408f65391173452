package scopeapi

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/store"
)

// ingest is the store's PIISink: each finding is one part of a file's
// result, stored with its values sealed. A finding that is not a valid
// result (the gateway refuses those first), or a part that disagrees with
// its file's others, is logged and skipped.
func (s *Service) ingest(ctx context.Context, tx *store.Tx, ds []*store.Detection) (int, error) {
	n := 0
	for _, d := range ds {
		var fr scope.FileResult
		if err := json.Unmarshal(d.Detail, &fr); err != nil {
			s.log.Warn("pii_file finding without a result", "host", d.HostID, "finding", d.FindingID, "err", err)
			continue
		}
		if err := fr.Check(); err != nil {
			s.log.Warn("invalid pii_file finding", "host", d.HostID, "finding", d.FindingID, "err", err)
			continue
		}
		cats, _ := json.Marshal(fr.Categories)
		flags, _ := json.Marshal(nonNil(fr.Flags))
		f := store.PIIFile{HostID: d.HostID, Path: fr.Path, PathRaw: fr.PathRaw, SweepID: d.SweepID, SHA256: fr.SHA256,
			Size: fr.Size, ModTime: fr.ModTime, Parts: fr.Parts, Masked: fr.Masked, Categories: string(cats), Flags: string(flags),
			ReceivedAt: d.ReceivedAt}
		var vals []store.PIIValue
		for _, sub := range fr.Subjects {
			for _, v := range sub.Values {
				vals = append(vals, store.PIIValue{Part: fr.Part, Member: sub.Member, Record: sub.Record, Category: v.Category,
					Country: v.Country, MAC: s.keys.sum(v.Category, v.Value), Sealed: s.keys.seal(v.Category, v.Value)})
			}
		}
		err := tx.PutPIIPart(ctx, f, fr.Part, len(fr.Subjects), vals)
		if errors.Is(err, store.ErrPIIPart) {
			s.log.Warn("pii_file part refused", "host", d.HostID, "finding", d.FindingID, "err", err)
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
