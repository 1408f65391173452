-- Scoping (internal/scope/scopeapi): the personal data agents found, per
-- file, with every value sealed (AES-GCM, a random nonce per value) and an
-- HMAC of category and value for equality lookups; the exposure a person
-- set per incident; the decisions on merge proposals; the incident's
-- customer master data, sealed row by row.
CREATE TABLE pii_files (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	host_id     TEXT NOT NULL,
	path        TEXT NOT NULL,
	path_raw    TEXT NOT NULL,
	sweep_id    TEXT NOT NULL,
	sha256      TEXT NOT NULL,
	size        INTEGER NOT NULL,
	mtime       INTEGER NOT NULL,
	parts       INTEGER NOT NULL,
	parts_seen  INTEGER NOT NULL,
	subjects    INTEGER NOT NULL,
	masked      INTEGER NOT NULL,
	categories  TEXT NOT NULL,
	flags       TEXT NOT NULL,
	received_at INTEGER NOT NULL,
	-- rev rises with every part stored: a register built from the file is
	-- stale once it moves
	rev         INTEGER NOT NULL,
	UNIQUE (host_id, path)
);

CREATE TABLE pii_file_parts (
	file_id     INTEGER NOT NULL REFERENCES pii_files(id),
	part        INTEGER NOT NULL,
	subjects    INTEGER NOT NULL,
	received_at INTEGER NOT NULL,
	PRIMARY KEY (file_id, part)
);

CREATE TABLE pii_values (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	file_id  INTEGER NOT NULL REFERENCES pii_files(id),
	part     INTEGER NOT NULL,
	member   TEXT NOT NULL,
	record   INTEGER NOT NULL,
	category TEXT NOT NULL,
	country  TEXT NOT NULL,
	mac      BLOB NOT NULL,
	sealed   BLOB NOT NULL
);
CREATE INDEX pii_values_file ON pii_values (file_id, part);
CREATE INDEX pii_values_mac ON pii_values (mac);

CREATE TABLE pii_exposure (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	host_id     TEXT NOT NULL,
	pattern     TEXT NOT NULL,
	level       TEXT NOT NULL,
	set_by      TEXT NOT NULL,
	reason      TEXT NOT NULL,
	set_at      INTEGER NOT NULL
);
CREATE INDEX pii_exposure_incident ON pii_exposure (incident_id, id);

CREATE TABLE pii_decisions (
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	proposal_id TEXT NOT NULL,
	confirm     INTEGER NOT NULL,
	decided_by  TEXT NOT NULL,
	reason      TEXT NOT NULL,
	decided_at  INTEGER NOT NULL,
	PRIMARY KEY (incident_id, proposal_id)
);

CREATE TABLE pii_masters (
	incident_id TEXT PRIMARY KEY REFERENCES incidents(id),
	name        TEXT NOT NULL,
	mapping     TEXT NOT NULL,
	row_count   INTEGER NOT NULL,
	uploaded_by TEXT NOT NULL,
	uploaded_at INTEGER NOT NULL
);

CREATE TABLE pii_master_rows (
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	row_no      INTEGER NOT NULL,
	sealed      BLOB NOT NULL,
	PRIMARY KEY (incident_id, row_no)
);

-- The counts of each incident's last register build (scope.Summary JSON),
-- which the obligations workspace derives its facts from.
CREATE TABLE pii_summaries (
	incident_id TEXT PRIMARY KEY REFERENCES incidents(id),
	summary     TEXT NOT NULL,
	built_at    INTEGER NOT NULL
);
