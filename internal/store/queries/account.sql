-- Named queries of users and their tokens (internal/account), shared by
-- SQLite and PostgreSQL.

-- name: user-insert
INSERT INTO users (name, role, disabled, password_hash, created_at, created_by) VALUES ($1, $2, 0, '', $3, $4);

-- name: user-get
SELECT name, role, disabled, created_at, created_by FROM users WHERE name = $1;

-- name: user-list
SELECT name, role, disabled, created_at, created_by FROM users WHERE name > $1 ORDER BY name LIMIT $2;

-- name: user-set-disabled
UPDATE users SET disabled = $2 WHERE name = $1;

-- name: user-set-password
UPDATE users SET password_hash = $2 WHERE name = $1;

-- name: user-password
SELECT password_hash FROM users WHERE name = $1 AND disabled = 0;

-- name: user-token-revoke-all
UPDATE user_tokens SET revoked_at = $2 WHERE user_name = $1 AND revoked_at = 0;

-- name: user-token-insert
INSERT INTO user_tokens (hash, user_name, created_at) VALUES ($1, $2, $3);

-- name: user-by-token
SELECT u.name, u.role, u.disabled, u.created_at, u.created_by
FROM user_tokens t JOIN users u ON u.name = t.user_name
WHERE t.hash = $1 AND t.revoked_at = 0 AND u.disabled = 0;
