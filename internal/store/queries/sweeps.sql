-- Named queries of sweeps, shared by SQLite and PostgreSQL ($N placeholders,
-- ON CONFLICT and RETURNING work on both).

-- name: insert-sweep
INSERT INTO sweeps (id, name, yara, hashes, sha256, paths, created_at, expires_at, created_by, pii)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);

-- name: insert-sweep-host
INSERT INTO sweep_hosts (sweep_id, host_id, state, updated_at) VALUES ($1, $2, $3, $4);

-- name: sweep-columns
SELECT id, name, yara, hashes, sha256, paths, created_at, expires_at, created_by, cancelled_at, cancelled_by, pii
FROM sweeps

-- name: sweep-hosts
SELECT sh.host_id, sh.state, sh.files, sh.error, sh.updated_at,
       (SELECT count(*) FROM detections d WHERE d.sweep_id = sh.sweep_id AND d.host_id = sh.host_id)
FROM sweep_hosts sh
WHERE sh.sweep_id = $1
ORDER BY sh.host_id;

-- name: pending-sweeps
SELECT s.id, s.name, s.yara, s.hashes, s.sha256, s.paths, s.created_at, s.expires_at, s.created_by, s.cancelled_at, s.cancelled_by, s.pii
FROM sweeps s JOIN sweep_hosts sh ON sh.sweep_id = s.id
WHERE sh.host_id = $1 AND sh.state IN ('queued', 'offline', 'running') AND s.expires_at > $2
ORDER BY s.created_at, s.id;

-- name: set-sweep-host
-- A finished host's state is final, but a host whose sweep was cancelled
-- may still confirm it (with the files it had scanned by then).
UPDATE sweep_hosts SET state = $3, files = $4, error = $5, updated_at = $6
WHERE sweep_id = $1 AND host_id = $2
  AND CASE WHEN $3 = 'cancelled' THEN state = 'cancelled' ELSE state NOT IN ('done', 'failed', 'cancelled') END;

-- name: list-sweeps
SELECT id, name, yara, hashes, sha256, paths, created_at, expires_at, created_by, cancelled_at, cancelled_by, pii
FROM sweeps
WHERE id > $1
ORDER BY id
LIMIT $2;

-- name: cancel-sweep
UPDATE sweeps SET cancelled_at = $2, cancelled_by = $3 WHERE id = $1 AND cancelled_at = 0;

-- name: cancel-sweep-hosts
UPDATE sweep_hosts SET state = 'cancelled', updated_at = $2
WHERE sweep_id = $1 AND state NOT IN ('done', 'failed', 'cancelled');

-- name: sweep-host
SELECT state FROM sweep_hosts WHERE sweep_id = $1 AND host_id = $2;
