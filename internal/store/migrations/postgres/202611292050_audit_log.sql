-- The audit log as the leaves of a Merkle tree (internal/audit): idx is the
-- leaf index, prev the leaf hash of entry idx-1, hash the entry's own leaf
-- hash. Rows are only ever appended. The older audit table is emptied into
-- it when the store opens.
CREATE TABLE audit_log (
	idx        BIGINT PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	at         BIGINT NOT NULL,
	actor      TEXT NOT NULL,
	role       TEXT NOT NULL,
	action     TEXT NOT NULL,
	target     TEXT NOT NULL,
	reason     TEXT NOT NULL,
	request_id TEXT NOT NULL,
	result     TEXT NOT NULL,
	detail     TEXT NOT NULL,
	prev       BYTEA NOT NULL,
	hash       BYTEA NOT NULL
);
CREATE INDEX audit_log_target ON audit_log (target, idx);

-- Signed tree heads: note is the signed checkpoint as served and exported;
-- size and root repeat its body for queries.
CREATE TABLE audit_checkpoints (
	id   BIGSERIAL PRIMARY KEY,
	size BIGINT NOT NULL,
	root BYTEA NOT NULL,
	at   BIGINT NOT NULL,
	note TEXT NOT NULL
);
CREATE INDEX audit_checkpoints_size ON audit_checkpoints (size);
