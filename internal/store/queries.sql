-- Named queries shared by SQLite and PostgreSQL: both take $N placeholders,
-- ON CONFLICT and RETURNING, so one text serves both dialects.

-- name: insert-host
INSERT INTO hosts (id, name, hostname, labels, cert_serial, enrolled_at, monitoring)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: host-columns
SELECT id, name, hostname, os, arch, os_version, ips, agent_version, labels, cert_serial,
       enrolled_at, last_seen, monitoring, monitoring_reported, isolation, isolation_reason,
       isolation_error, bundle_version, bundle_error, revoked_at
FROM hosts

-- name: update-inventory
UPDATE hosts SET hostname = $2, os = $3, arch = $4, os_version = $5, ips = $6, agent_version = $7,
       monitoring_reported = $8, bundle_version = $9, last_seen = $10
WHERE id = $1;

-- name: touch-host
UPDATE hosts SET last_seen = $2 WHERE id = $1 AND last_seen < $2;

-- name: set-monitoring
UPDATE hosts SET monitoring = $2 WHERE id = $1;

-- name: set-labels
UPDATE hosts SET labels = $2 WHERE id = $1;

-- name: set-isolation
UPDATE hosts SET isolation = $2, isolation_reason = $3, isolation_error = $4 WHERE id = $1;

-- name: set-bundle-status
UPDATE hosts SET bundle_version = $2, bundle_error = $3 WHERE id = $1;

-- name: revoke-host
UPDATE hosts SET revoked_at = $2 WHERE id = $1 AND revoked_at = 0;

-- name: insert-detection
INSERT INTO detections (host_id, finding_id, type, source, rule, indicator, path, sha256, size,
                        seen_at, received_at, sweep_id, bundle_version, tags, meta, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (host_id, finding_id) DO NOTHING;

-- name: list-detections
SELECT id, host_id, finding_id, type, source, rule, indicator, path, sha256, size, seen_at,
       received_at, sweep_id, bundle_version, tags, meta, detail
FROM detections
WHERE id > $1 AND ($2 = '' OR host_id = $2) AND ($3 = '' OR sweep_id = $3)
ORDER BY id
LIMIT $4;

-- name: latest-detections
SELECT id, host_id, finding_id, type, source, rule, indicator, path, sha256, size, seen_at,
       received_at, sweep_id, bundle_version, tags, meta, detail
FROM detections
WHERE ($1 = '' OR host_id = $1) AND ($2 = '' OR sweep_id = $2)
ORDER BY id DESC
LIMIT $3;

-- name: count-detections
SELECT count(*) FROM detections;

-- name: insert-bundle
INSERT INTO bundles (name, yara, hashes, sha256, created_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING version;

-- name: latest-bundle
SELECT version, name, yara, hashes, sha256, created_at, created_by
FROM bundles ORDER BY version DESC LIMIT 1;

-- name: insert-sweep
INSERT INTO sweeps (id, name, yara, hashes, sha256, paths, created_at, expires_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: insert-sweep-host
INSERT INTO sweep_hosts (sweep_id, host_id, state, updated_at) VALUES ($1, $2, $3, $4);

-- name: sweep-columns
SELECT id, name, yara, hashes, sha256, paths, created_at, expires_at, created_by
FROM sweeps

-- name: sweep-hosts
SELECT sh.host_id, sh.state, sh.files, sh.error, sh.updated_at,
       (SELECT count(*) FROM detections d WHERE d.sweep_id = sh.sweep_id AND d.host_id = sh.host_id)
FROM sweep_hosts sh
WHERE sh.sweep_id = $1
ORDER BY sh.host_id;

-- name: pending-sweeps
SELECT s.id, s.name, s.yara, s.hashes, s.sha256, s.paths, s.created_at, s.expires_at, s.created_by
FROM sweeps s JOIN sweep_hosts sh ON sh.sweep_id = s.id
WHERE sh.host_id = $1 AND sh.state IN ('queued', 'offline', 'running') AND s.expires_at > $2
ORDER BY s.created_at, s.id;

-- name: set-sweep-host
UPDATE sweep_hosts SET state = $3, files = $4, error = $5, updated_at = $6
WHERE sweep_id = $1 AND host_id = $2 AND state NOT IN ('done', 'failed');

-- name: insert-audit
INSERT INTO audit (at, actor, action, target, reason, detail) VALUES ($1, $2, $3, $4, $5, $6);

-- name: list-audit
SELECT id, at, actor, action, target, reason, detail
FROM audit
WHERE ($1 = '' OR target = $1) AND id > $2
ORDER BY id
LIMIT $3;

-- name: get-setting
SELECT value FROM settings WHERE key = $1;

-- name: put-setting
INSERT INTO settings (key, value) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
