-- Named queries of detections, shared by SQLite and PostgreSQL ($N placeholders,
-- ON CONFLICT and RETURNING work on both).

-- name: insert-detection
INSERT INTO detections (host_id, finding_id, type, source, rule, indicator, path, sha256, size,
                        seen_at, received_at, sweep_id, bundle_version, tags, meta, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
ON CONFLICT (host_id, finding_id) DO NOTHING
RETURNING id;

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
