-- Hosts, detections, bundles, sweeps and the audit trail. Times are Unix
-- milliseconds (0 = never) so both dialects compare and sort them alike.
CREATE TABLE hosts (
	id                  TEXT PRIMARY KEY,
	name                TEXT NOT NULL DEFAULT '',
	hostname            TEXT NOT NULL DEFAULT '',
	os                  TEXT NOT NULL DEFAULT '',
	arch                TEXT NOT NULL DEFAULT '',
	os_version          TEXT NOT NULL DEFAULT '',
	ips                 TEXT NOT NULL DEFAULT '[]',
	agent_version       TEXT NOT NULL DEFAULT '',
	labels              TEXT NOT NULL DEFAULT '{}',
	cert_serial         TEXT NOT NULL DEFAULT '',
	enrolled_at         INTEGER NOT NULL,
	last_seen           INTEGER NOT NULL DEFAULT 0,
	monitoring          TEXT NOT NULL DEFAULT 'normal',
	monitoring_reported TEXT NOT NULL DEFAULT '',
	isolation           TEXT NOT NULL DEFAULT 'none',
	isolation_reason    TEXT NOT NULL DEFAULT '',
	isolation_error     TEXT NOT NULL DEFAULT '',
	bundle_version      INTEGER NOT NULL DEFAULT 0,
	bundle_error        TEXT NOT NULL DEFAULT '',
	revoked_at          INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE detections (
	id             INTEGER PRIMARY KEY,
	host_id        TEXT NOT NULL REFERENCES hosts(id),
	finding_id     TEXT NOT NULL,
	type           TEXT NOT NULL,
	source         TEXT NOT NULL DEFAULT '',
	rule           TEXT NOT NULL DEFAULT '',
	indicator      TEXT NOT NULL DEFAULT '',
	path           TEXT NOT NULL DEFAULT '',
	sha256         TEXT NOT NULL DEFAULT '',
	size           INTEGER NOT NULL DEFAULT 0,
	seen_at        INTEGER NOT NULL,
	received_at    INTEGER NOT NULL,
	sweep_id       TEXT NOT NULL DEFAULT '',
	bundle_version INTEGER NOT NULL DEFAULT 0,
	tags           TEXT NOT NULL DEFAULT '[]',
	meta           TEXT NOT NULL DEFAULT '{}',
	detail         TEXT NOT NULL DEFAULT '{}',
	UNIQUE (host_id, finding_id)
);
CREATE INDEX detections_sweep ON detections (sweep_id, host_id);

CREATE TABLE bundles (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	yara       TEXT NOT NULL,
	hashes     TEXT NOT NULL,
	sha256     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	created_by TEXT NOT NULL
);

CREATE TABLE sweeps (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	yara       TEXT NOT NULL,
	hashes     TEXT NOT NULL,
	sha256     TEXT NOT NULL,
	paths      TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	created_by TEXT NOT NULL
);

CREATE TABLE sweep_hosts (
	sweep_id   TEXT NOT NULL REFERENCES sweeps(id),
	host_id    TEXT NOT NULL REFERENCES hosts(id),
	state      TEXT NOT NULL,
	files      INTEGER NOT NULL DEFAULT 0,
	error      TEXT NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (sweep_id, host_id)
);
CREATE INDEX sweep_hosts_host ON sweep_hosts (host_id, state);

CREATE TABLE audit (
	id     INTEGER PRIMARY KEY,
	at     INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
