package scopeapi

import (
	"context"
	"time"
)

// Rebuild builds an incident's register from the store, bypassing the
// cache, and reports how long it took and how many people and values.
func (s *Service) Rebuild(ctx context.Context, incidentID string) (took time.Duration, people, values int, err error) {
	b, err := s.build(ctx, incidentID)
	if err != nil {
		return 0, 0, 0, err
	}
	return b.took, len(b.reg.People), b.occurrences, nil
}
