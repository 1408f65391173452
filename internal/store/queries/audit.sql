-- Named queries of the audit trail, shared by SQLite and PostgreSQL.

-- name: insert-audit
INSERT INTO audit (at, actor, role, action, target, reason, detail, request_id, result)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: list-audit
SELECT id, at, actor, role, action, target, reason, detail, request_id, result
FROM audit
WHERE ($1 = '' OR target = $1) AND id > $2
ORDER BY id
LIMIT $3;
