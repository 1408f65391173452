-- Personal accounts (internal/account): one role each; tokens are stored
-- as their SHA-256 only, and a user's older tokens are revoked when a new
-- one is minted.
CREATE TABLE users (
	name          TEXT PRIMARY KEY,
	role          TEXT NOT NULL,
	disabled      INTEGER NOT NULL DEFAULT 0,
	password_hash TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	created_by    TEXT NOT NULL
);

CREATE TABLE user_tokens (
	hash       TEXT PRIMARY KEY,
	user_name  TEXT NOT NULL REFERENCES users(name),
	created_at INTEGER NOT NULL,
	revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX user_tokens_user ON user_tokens (user_name);
