-- Named queries of bundles, shared by SQLite and PostgreSQL ($N placeholders,
-- ON CONFLICT and RETURNING work on both).

-- name: insert-bundle
INSERT INTO bundles (name, yara, hashes, sha256, created_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING version;

-- name: latest-bundle
SELECT version, name, yara, hashes, sha256, created_at, created_by
FROM bundles ORDER BY version DESC LIMIT 1;
