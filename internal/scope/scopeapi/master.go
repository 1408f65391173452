package scopeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/mamori-dev/mamori/internal/incident"
	"github.com/mamori-dev/mamori/internal/scope"
	"github.com/mamori-dev/mamori/internal/server/httpapi"
	"github.com/mamori-dev/mamori/internal/store"
)

// maxMasterBody bounds an uploaded master file.
const maxMasterBody = 256 << 20

// masterMeta is what pii_masters.mapping holds.
type masterMeta struct {
	Headers []string          `json:"headers"`
	Mapping map[string]string `json:"mapping"`
}

// sealedMaster is the AES-GCM additional data of master rows.
const sealedMaster = "master"

func (s *Service) uploadMaster(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	q := r.URL.Query()
	name := q.Get("name")
	switch ext := strings.ToLower(path.Ext(name)); {
	case name == "" || len(name) > 255 || strings.ContainsAny(name, "/\\"):
		httpapi.Fail(w, r, httpapi.BadInput("query parameter name", "want the file's base name, e.g. customers.csv"))
		return
	case ext != ".csv" && ext != ".tsv" && ext != ".txt" && ext != ".xlsx":
		httpapi.Fail(w, r, httpapi.BadInput("query parameter name", "%q: want a .csv, .tsv or .xlsx file", name))
		return
	}
	if err := needReason(q.Get("reason")); err != nil {
		httpapi.Fail(w, r, httpapi.BadInput("query parameter reason", "required"))
		return
	}
	var mapping map[string]string
	if m := q.Get("map"); m != "" {
		var err error
		if mapping, err = scope.ParseMapping(m); err != nil {
			httpapi.Fail(w, r, httpapi.BadInput("query parameter map", "%v", err))
			return
		}
	}
	if _, err := incident.Get(ctx, s.st, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxMasterBody+1))
	if err != nil {
		httpapi.Fail(w, r, httpapi.BadInput("body", "%v", err))
		return
	}
	if len(data) > maxMasterBody {
		httpapi.Fail(w, r, &httpapi.TooLargeError{What: "master data", Limit: maxMasterBody})
		return
	}
	m, err := scope.ReadMaster(ctx, name, data, mapping)
	if err != nil {
		httpapi.Fail(w, r, httpapi.BadInput("body", "%v", err))
		return
	}
	meta, _ := json.Marshal(masterMeta{Headers: m.Headers, Mapping: m.Mapping})
	now := s.now()
	p, _ := httpapi.PrincipalFrom(ctx)
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, "pii-master-rows-delete", id); err != nil {
			return err
		}
		for i, row := range m.Rows {
			b, _ := json.Marshal(row)
			if _, err := tx.Exec(ctx, "pii-master-row-insert", id, i, s.keys.seal(sealedMaster, string(b))); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "pii-master-upsert", id, name, string(meta), len(m.Rows), p.Actor(), store.ToMS(now)); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, httpapi.Audit(ctx, now, "scope.master", id, q.Get("reason"), fmt.Sprintf("%s: %d rows", name, len(m.Rows))))
	})
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, MasterView{Name: name, Rows: len(m.Rows), Mapping: m.Mapping, Headers: m.Headers})
}

// addMaster feeds the incident's master data, if any, to r.
func (s *Service) addMaster(ctx context.Context, r *scope.Resolver, incidentID string) error {
	rows, err := s.st.Query(ctx, "pii-master", incidentID)
	if err != nil {
		return err
	}
	var name, meta, by string
	var n int
	var at int64
	found := rows.Next()
	if found {
		err = rows.Scan(&name, &meta, &n, &by, &at)
	}
	rows.Close()
	if err != nil || !found {
		return errors.Join(err, rows.Err())
	}
	src := r.Source(scope.Source{Path: name, Master: true})
	mr, err := s.st.Query(ctx, "pii-master-rows", incidentID)
	if err != nil {
		return err
	}
	defer mr.Close()
	for mr.Next() {
		var i int
		var sealed []byte
		if err := mr.Scan(&i, &sealed); err != nil {
			return fmt.Errorf("scope: master rows: %w", err)
		}
		b, err := s.keys.open(sealedMaster, sealed)
		if err != nil {
			return err
		}
		var row scope.MasterRow
		if err := json.Unmarshal([]byte(b), &row); err != nil {
			return fmt.Errorf("scope: master row %d: %w", i, err)
		}
		r.AddMaster(src, i, row)
	}
	return mr.Err()
}
