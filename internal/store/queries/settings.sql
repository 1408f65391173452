-- Named queries of settings, shared by SQLite and PostgreSQL ($N placeholders,
-- ON CONFLICT and RETURNING work on both).

-- name: get-setting
SELECT value FROM settings WHERE key = $1;

-- name: put-setting
INSERT INTO settings (key, value) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
