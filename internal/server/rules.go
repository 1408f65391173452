package server

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
	"github.com/mamori-dev/mamori/internal/wire"
	"github.com/mamori-dev/mamori/internal/yara"
)

func (s *Server) ruleRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Method: "POST", Pattern: "/rules", Summary: "Publish a rule bundle (YARA text and hashes) that every agent loads.",
			Request: BundleIn{}, Response: BundlePublished{}, Roles: responders, Handler: s.postRules},
		{Method: "GET", Pattern: "/rules", Summary: "The current rule bundle.",
			Response: Bundle{}, Roles: []httpapi.Role{httpapi.RoleResponder, httpapi.RoleAuditor}, Handler: s.getRules},
	}
}

// BundleIn is a rule bundle to publish.
type BundleIn struct {
	Name   string   `json:"name"`
	YARA   string   `json:"yara" doc:"YARA rule text, compiled at the API"`
	Hashes []string `json:"hashes" doc:"MD5, SHA-1 or SHA-256 hex digests"`
}

// BundlePublished is the version a publication got.
type BundlePublished struct {
	Version int64  `json:"version" doc:"bundle version"`
	SHA256  string `json:"sha256" doc:"content digest agents verify"`
}

// Bundle is a published rule bundle.
type Bundle struct {
	Version   int64     `json:"version"`
	Name      string    `json:"name"`
	YARA      string    `json:"yara"`
	Hashes    []string  `json:"hashes"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// validateBundle compiles the YARA text and checks the hashes, so that a
// bundle no agent could load is refused at the API.
func validateBundle(b *BundleIn) error {
	if strings.TrimSpace(b.YARA) == "" && len(b.Hashes) == 0 {
		return httpapi.BadInput("yara and hashes", "both empty")
	}
	if strings.TrimSpace(b.YARA) != "" {
		if _, err := yara.Compile(b.YARA, "yara", yara.CompileOptions{}); err != nil {
			return httpapi.BadInput("yara", "%v", err)
		}
	}
	for i, h := range b.Hashes {
		h = strings.ToLower(strings.TrimSpace(h))
		if n := len(h); n != 32 && n != 40 && n != 64 {
			return httpapi.BadInput(fmt.Sprintf("hashes[%d]", i), "%q is not an MD5, SHA-1 or SHA-256 hex digest", b.Hashes[i])
		}
		if _, err := hex.DecodeString(h); err != nil {
			return httpapi.BadInput(fmt.Sprintf("hashes[%d]", i), "%q is not hex", b.Hashes[i])
		}
		b.Hashes[i] = h
	}
	return nil
}

func (s *Server) postRules(w http.ResponseWriter, r *http.Request) {
	var body BundleIn
	if err := httpapi.DecodeBody(r, wire.MaxMessageBytes, &body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := validateBundle(&body); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	ctx := r.Context()
	p, _ := httpapi.PrincipalFrom(ctx)
	b := &store.Bundle{Name: body.Name, YARA: body.YARA, Hashes: nonNil(body.Hashes),
		SHA256: wire.BundleDigest(body.YARA, body.Hashes), CreatedAt: s.now(), CreatedBy: p.Actor()}
	if err := fitsOnWire(s.bundleMessage(b), "rule bundle"); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	// One publication at a time, so no agent receives version n+1 before n.
	s.publishMu.Lock()
	defer s.publishMu.Unlock()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		v, err := tx.CreateBundle(ctx, b)
		if err != nil {
			return err
		}
		b.Version = v
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, s.now(), "publish_rules", "fleet", "", fmt.Sprintf("version %d %s", v, body.Name)))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	s.broadcast(ctx, s.hub.ids(), func() *wire.Message { return s.bundleMessage(b) })
	httpapi.WriteJSON(w, http.StatusOK, BundlePublished{Version: b.Version, SHA256: b.SHA256})
}

func (s *Server) getRules(w http.ResponseWriter, r *http.Request) {
	b, err := s.st.LatestBundle(r.Context())
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, Bundle{Version: b.Version, Name: b.Name, YARA: b.YARA,
		Hashes: nonNil(b.Hashes), SHA256: b.SHA256, CreatedAt: b.CreatedAt, CreatedBy: b.CreatedBy})
}

// fitsOnWire refuses what could be stored but never sent: a message over
// the wire limit would be refused by every agent, again at each reconnect.
func fitsOnWire(m *wire.Message, what string) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if len(b) > wire.MaxMessageBytes {
		return &httpapi.TooLargeError{What: what + " as sent to agents", Limit: wire.MaxMessageBytes}
	}
	return nil
}
