package pii_test

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/mamori-dev/mamori/internal/pii"
	"github.com/mamori-dev/mamori/internal/pii/piicorpus"
)

// score is one category's confusion counts.
type score struct{ tp, fp, fn int }

func (s score) precision() float64 {
	if s.tp+s.fp == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fp)
}

func (s score) recall() float64 {
	if s.tp+s.fn == 0 {
		return 1
	}
	return float64(s.tp) / float64(s.tp+s.fn)
}

type labelKey struct{ file, cat, value string }

// measure scans n generated files and scores every category against the
// generator's labels, values compared in the generator's own normal form.
func measure(t *testing.T, seed uint64, n int) (map[string]score, []string) {
	return measureFiles(t, seed, n, (*piicorpus.Generator).Next)
}

func measureFiles(t *testing.T, seed uint64, n int, next func(*piicorpus.Generator) piicorpus.File) (map[string]score, []string) {
	t.Helper()
	g := piicorpus.New(seed)
	truth, found := map[labelKey]bool{}, map[labelKey]bool{}
	for i := 0; i < n; i++ {
		f := next(g)
		for _, l := range f.Labels {
			truth[labelKey{l.File, l.Category, l.Value}] = true
		}
		occ, _, errs := pii.ScanBytes(context.Background(), f.Name, f.Data, pii.Options{Reveal: true})
		for _, err := range errs {
			t.Errorf("%s: %v", f.Name, err)
		}
		for _, o := range occ {
			if o.Value == "" || o.Masked != "" {
				t.Fatalf("%s: Reveal occurrence without value: %+v", f.Name, o)
			}
			found[labelKey{f.Name, o.Category, piicorpus.Norm(o.Category, o.Value)}] = true
		}
	}
	scores := map[string]score{}
	var misses []string
	for k := range found {
		s := scores[k.cat]
		if truth[k] {
			s.tp++
		} else {
			s.fp++
			misses = append(misses, fmt.Sprintf("false positive %s %s %q", k.file, k.cat, k.value))
		}
		scores[k.cat] = s
	}
	for k := range truth {
		if !found[k] {
			s := scores[k.cat]
			s.fn++
			scores[k.cat] = s
			misses = append(misses, fmt.Sprintf("missed %s %s %q", k.file, k.cat, k.value))
		}
	}
	sort.Strings(misses)
	return scores, misses
}

func TestAccuracy(t *testing.T) {
	scores, misses := measure(t, 20261125, 6*piicorpus.Kinds)
	for _, m := range misses[:min(len(misses), 30)] {
		t.Log(m)
	}
	for _, cat := range piicorpus.Categories {
		s := scores[cat]
		t.Logf("%-16s precision %.4f recall %.4f (tp %d, fp %d, fn %d)", cat, s.precision(), s.recall(), s.tp, s.fp, s.fn)
	}
	for _, cat := range []string{piicorpus.Email, piicorpus.Phone, piicorpus.CreditCard, piicorpus.MyNumber} {
		s := scores[cat]
		if s.tp == 0 {
			t.Errorf("%s: corpus has no true values to measure", cat)
		}
		if p := s.precision(); p < 0.99 {
			t.Errorf("%s precision %.4f, want >= 0.99", cat, p)
		}
		if r := s.recall(); r < 0.98 {
			t.Errorf("%s recall %.4f, want >= 0.98", cat, r)
		}
	}
}

// TestAccuracyInternational scores the US, UK, Korean and Chinese
// customer lists, nested JSON and letters of the international generator.
func TestAccuracyInternational(t *testing.T) {
	scores, misses := measureFiles(t, 20261129, 4*len(piicorpus.Locales)*piicorpus.IntlKinds, (*piicorpus.Generator).NextIntl)
	for _, m := range misses[:min(len(misses), 30)] {
		t.Log(m)
	}
	for _, cat := range []string{piicorpus.Email, piicorpus.Phone, piicorpus.CreditCard, piicorpus.PersonName,
		piicorpus.Address, piicorpus.PostalCode, piicorpus.DateOfBirth} {
		s := scores[cat]
		t.Logf("%-16s precision %.4f recall %.4f (tp %d, fp %d, fn %d)", cat, s.precision(), s.recall(), s.tp, s.fp, s.fn)
		if s.tp == 0 {
			t.Errorf("%s: corpus has no true values to measure", cat)
		}
		if p := s.precision(); p < 0.99 {
			t.Errorf("%s precision %.4f, want >= 0.99", cat, p)
		}
		if r := s.recall(); r < 0.95 {
			t.Errorf("%s recall %.4f, want >= 0.95", cat, r)
		}
	}
}
