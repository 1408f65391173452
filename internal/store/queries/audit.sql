-- Named queries of the audit log (internal/audit), shared by SQLite and
-- PostgreSQL.

-- name: audit-head
SELECT idx, hash FROM audit_log ORDER BY idx DESC LIMIT 1;

-- name: audit-insert
INSERT INTO audit_log (idx, id, at, actor, role, action, target, reason, request_id, result, detail, prev, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13);

-- name: audit-entries
SELECT idx, id, at, actor, role, action, target, reason, request_id, result, detail, prev, hash
FROM audit_log
WHERE idx >= $1
ORDER BY idx
LIMIT $2;

-- name: audit-entries-target
SELECT idx, id, at, actor, role, action, target, reason, request_id, result, detail, prev, hash
FROM audit_log
WHERE target = $1 AND idx >= $2
ORDER BY idx
LIMIT $3;

-- name: audit-all
SELECT idx, id, at, actor, role, action, target, reason, request_id, result, detail, prev, hash
FROM audit_log
ORDER BY idx;

-- name: audit-hashes
SELECT idx, hash FROM audit_log WHERE idx >= $1 ORDER BY idx LIMIT $2;

-- name: audit-entry
SELECT idx, id, at, actor, role, action, target, reason, request_id, result, detail, prev, hash
FROM audit_log
WHERE idx = $1;

-- name: audit-checkpoint-insert
INSERT INTO audit_checkpoints (size, root, at, note) VALUES ($1, $2, $3, $4);

-- name: audit-checkpoints
SELECT note FROM audit_checkpoints ORDER BY size, id;

-- name: audit-checkpoint-latest
SELECT note FROM audit_checkpoints ORDER BY size DESC, id DESC LIMIT 1;

-- name: audit-legacy
SELECT id, at, actor, role, action, target, reason, detail, request_id, result
FROM audit
ORDER BY id;

-- name: audit-legacy-delete
DELETE FROM audit;
