package notifyapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-dev/mamori/internal/notify"
	"github.com/mamori-dev/mamori/internal/notify/smtpout"
	"github.com/mamori-dev/mamori/internal/notify/storebox"
	"github.com/mamori-dev/mamori/internal/store"
)

// Start implements httpapi.Starter: it sends the campaigns that are in
// state sending, each under a lease so that two servers on one database
// never send one campaign at once, and stops a campaign's run when a
// person pauses it.
func (s *Service) Start(ctx context.Context) error {
	if s.relay == nil {
		<-ctx.Done()
		return ctx.Err()
	}
	pool := smtpout.New(*s.relay)
	defer pool.Close()
	t := time.NewTicker(s.Poll)
	defer t.Stop()
	for {
		if err := s.sendAll(ctx, pool); err != nil && ctx.Err() == nil {
			s.env.Log.Error("notify: sending", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-s.wake:
		}
	}
}

func (s *Service) sendAll(ctx context.Context, pool *smtpout.Pool) error {
	after := ""
	for {
		cs, err := s.box.CampaignsInState(ctx, notify.Running, after, 100)
		if err != nil || len(cs) == 0 {
			return err
		}
		for _, c := range cs {
			after = c.ID
			if err := s.sendOne(ctx, pool, c); err != nil {
				s.env.Log.Error("notify: campaign", "campaign", c.ID, "err", err)
			}
		}
	}
}

const leaseTTL = 30 * time.Second

func (s *Service) sendOne(ctx context.Context, pool *smtpout.Pool, c notify.Campaign) error {
	if _, ok, err := s.box.Lease(ctx, c.ID, s.owner, s.env.Now().Add(leaseTTL), s.env.Now()); err != nil || !ok {
		return err // another server sends it
	}
	defer s.box.Lease(context.Background(), c.ID, s.owner, s.env.Now(), s.env.Now())
	if hash, _, _, err := notify.Freeze(ctx, s.box, c, c.LastRow); err != nil {
		return err
	} else if hash != c.Hash {
		return fmt.Errorf("campaign %s changed since approval; not sending", c.ID)
	}
	comp, err := notify.NewComposer(c, nil)
	if err != nil {
		return err
	}
	run, cancel := context.WithCancel(ctx)
	defer cancel()
	// Watch for a pause and keep the lease.
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-run.Done():
				return
			case <-t.C:
			}
			cur, err := s.box.Campaign(run, c.ID)
			if err == nil && cur.State != notify.Running {
				cancel()
				return
			}
			if i%10 == 9 {
				s.box.Lease(run, c.ID, s.owner, s.env.Now().Add(leaseTTL), s.env.Now())
			}
		}
	}()
	snd := &notify.Sender{Outbox: s.box, Transport: pool, Compose: comp.Compose, Checker: s.checker, Workers: 16, Log: s.env.Log}
	err = snd.Run(run, c.ID)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	if err != nil {
		return err
	}
	counts, err := s.box.Counts(ctx, c.ID)
	if err != nil {
		return err
	}
	if e := counts[notify.Email]; e[notify.Queued]+e[notify.Sending] > 0 {
		return nil // soft retries not due yet: the next round picks them up
	}
	c.State = notify.Done
	return s.env.Store.InTx(ctx, func(tx *store.Tx) error {
		if err := storebox.UpdateCampaign(ctx, tx, c, notify.Running); err != nil {
			return err
		}
		e := counts[notify.Email]
		letters := 0
		for _, n := range counts[notify.Letter] {
			letters += n
		}
		return tx.AppendAudit(ctx, store.AuditEntry{At: s.env.Now(), Actor: "mamori", Role: "system", Action: "notify_campaign_done", Target: c.ID,
			Detail: fmt.Sprintf("sending -> done; e-mail: %d sent, %d bounced, %d failed, %d unknown; %d letters", e[notify.Sent], e[notify.Bounced], e[notify.Failed], e[notify.Unknown], letters), Result: "ok"})
	})
}
