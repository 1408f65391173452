-- name: schema
CREATE TABLE IF NOT EXISTS queue (
	seq  INTEGER PRIMARY KEY AUTOINCREMENT,
	id   TEXT NOT NULL UNIQUE,
	body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS sweeps (
	id         TEXT PRIMARY KEY,
	body       BLOB NOT NULL,
	state      TEXT NOT NULL,
	files      INTEGER NOT NULL DEFAULT 0,
	findings   INTEGER NOT NULL DEFAULT 0,
	error      TEXT NOT NULL DEFAULT '',
	expires_at INTEGER NOT NULL
);

-- name: enqueue
INSERT INTO queue (id, body) VALUES (?, ?) ON CONFLICT (id) DO NOTHING;

-- name: pending
SELECT seq, body FROM queue WHERE seq > ? ORDER BY seq LIMIT ?;

-- name: delete-range
DELETE FROM queue WHERE seq BETWEEN ? AND ?;

-- name: count
SELECT count(*) FROM queue;

-- name: bounds
SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM queue;

-- name: get-state
SELECT value FROM state WHERE key = ?;

-- name: put-state
INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: add-sweep
INSERT INTO sweeps (id, body, state, expires_at) VALUES (?, ?, 'queued', ?) ON CONFLICT (id) DO NOTHING;

-- name: update-sweep
UPDATE sweeps SET state = ?, files = ?, findings = ?, error = ? WHERE id = ?;

-- name: sweeps
SELECT id, body, state, files, findings, error FROM sweeps ORDER BY rowid;

-- name: prune-sweeps
DELETE FROM sweeps WHERE expires_at < ?;
