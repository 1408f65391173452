package notifyapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/notify/letter"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// LettersPosted records that the printed letters were posted.
type LettersPosted struct {
	Date   string `json:"date,omitempty" doc:"the day they were posted, YYYY-MM-DD in the campaign's zone (today by default)"`
	Reason string `json:"reason" required:"true"`
}

// LettersPostedResult says how many letters were marked posted.
type LettersPostedResult struct {
	Posted int    `json:"posted"`
	Date   string `json:"date"`
}

var letterParams = []httpapi.Param{{Name: "reason", Description: "why the letters, which hold names and addresses, are downloaded (required; audited)"}}

func (s *Service) letterRoutes(base string) []httpapi.Route {
	privacy := []httpapi.Role{httpapi.RolePrivacy}
	return []httpapi.Route{
		{Method: "GET", Pattern: base + "/{cid}/letters.pdf", Summary: "The campaign's letters to print, one PDF (application/pdf): queued letters become printed; " +
			"printed ones not yet posted are in it again. Audited: letters hold names and addresses.", Query: letterParams, Roles: privacy, Handler: s.lettersPDF},
		{Method: "POST", Pattern: base + "/{cid}/letters/posted", Summary: "Mark the printed letters posted.", Request: LettersPosted{}, Response: LettersPostedResult{},
			Roles: privacy, Handler: s.lettersPosted},
	}
}

// lettersCampaign loads the path's campaign for a letters route: letters
// are printed from approved (frozen) text only.
func (s *Service) lettersCampaign(r *http.Request, reason string) (notify.Campaign, error) {
	c, err := s.campaign(r)
	if err == nil {
		err = needReason(reason)
	}
	if err == nil && c.State == notify.Draft {
		err = httpapi.Conflict("campaign %s is a draft; letters are printed once it is approved", c.ID)
	}
	return c, err
}

func (s *Service) lettersPDF(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	reason := r.URL.Query().Get("reason")
	c, err := s.lettersCampaign(r, reason)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	// Fonts before anything changes: without them nothing is printed.
	fonts, err := letter.FindFonts()
	if err != nil {
		httpapi.Fail(w, r, httpapi.Conflict("the server cannot print letters: %v", err))
		return
	}
	comp, err := notify.NewComposer(c, nil)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	comp.Now = s.env.Now
	batch := "b-" + s.env.Now().UTC().Format("20060102T150405Z")
	var pdf bytes.Buffer
	n, err := notify.PrintPending(ctx, s.box, comp, batch, fonts, &pdf)
	if err != nil {
		httpapi.Fail(w, r, apiErr(err))
		return
	}
	if n == 0 {
		httpapi.Fail(w, r, httpapi.Conflict("campaign %s has no letters to print", c.ID))
		return
	}
	err = s.env.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.env.Now(), "notify_letters_print", c.ID, reason,
			fmt.Sprintf("%d letters not yet posted downloaded as PDF (%d bytes); newly queued ones printed in batch %s", n, pdf.Len(), batch)))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", c.ID+"-letters.pdf"))
	w.Header().Set("Content-Length", strconv.Itoa(pdf.Len()))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(pdf.Bytes())
}

func (s *Service) lettersPosted(w http.ResponseWriter, r *http.Request) {
	var req LettersPosted
	if err := httpapi.DecodeBody(r, 0, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	c, err := s.lettersCampaign(r, req.Reason)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	zone, err := time.LoadLocation(c.Zone)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	day := s.env.Now().In(zone)
	if req.Date != "" {
		if day, err = time.ParseInLocation("2006-01-02", req.Date, zone); err != nil {
			httpapi.Fail(w, r, httpapi.BadInput("date", "%q, want YYYY-MM-DD", req.Date))
			return
		}
		if day.After(s.env.Now()) {
			httpapi.Fail(w, r, httpapi.BadInput("date", "%s is in the future", req.Date))
			return
		}
	}
	date := day.Format("2006-01-02")
	n, err := notify.MarkPosted(ctx, s.box, c.ID, "", day)
	if errors.Is(err, notify.ErrNotFound) {
		err = httpapi.Conflict("campaign %s has no printed letters waiting (GET .../letters.pdf prints them)", c.ID)
	}
	if err != nil {
		httpapi.Fail(w, r, apiErr(err))
		return
	}
	err = s.env.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.env.Now(), "notify_letters_posted", c.ID, req.Reason, fmt.Sprintf("%d letters posted on %s", n, date)))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, LettersPostedResult{Posted: n, Date: date})
}
