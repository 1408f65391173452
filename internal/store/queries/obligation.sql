-- Named queries of the obligations capability (internal/obligation/workspace).

-- name: obligation-facts-get
SELECT facts, context, updated_at, updated_by, reason FROM obligation_facts WHERE incident_id = $1;

-- name: obligation-facts-put
INSERT INTO obligation_facts (incident_id, facts, context, updated_at, updated_by, reason) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (incident_id) DO UPDATE SET facts = excluded.facts, context = excluded.context, updated_at = excluded.updated_at,
	updated_by = excluded.updated_by, reason = excluded.reason;

-- name: obligation-facts-delete
DELETE FROM obligation_facts WHERE incident_id = $1;
