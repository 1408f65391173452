-- Named queries of hosts, shared by SQLite and PostgreSQL ($N placeholders,
-- ON CONFLICT and RETURNING work on both).

-- name: insert-host
INSERT INTO hosts (id, name, hostname, labels, cert_serial, enrolled_at, monitoring, key_sha256, cert_pem)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: host-by-key
SELECT id, cert_pem, revoked_at FROM hosts WHERE key_sha256 = $1;

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

-- name: set-monitoring-all
UPDATE hosts SET monitoring = $1 WHERE revoked_at = 0;

-- name: list-hosts
SELECT id, name, hostname, os, arch, os_version, ips, agent_version, labels, cert_serial,
       enrolled_at, last_seen, monitoring, monitoring_reported, isolation, isolation_reason,
       isolation_error, bundle_version, bundle_error, revoked_at
FROM hosts
WHERE id > $1
ORDER BY id
LIMIT $2;

-- name: delete-host-detections
DELETE FROM detections WHERE host_id = $1;

-- name: delete-host-sweeps
DELETE FROM sweep_hosts WHERE host_id = $1;

-- name: delete-host
DELETE FROM hosts WHERE id = $1;
