-- Incidents (internal/incident) with their links, history and notes.
-- Links are deleted when unlinked; the history keeps that they existed.
-- History and notes are only ever appended.
CREATE TABLE incidents (
	id         TEXT PRIMARY KEY,
	title      TEXT NOT NULL,
	summary    TEXT NOT NULL,
	severity   TEXT NOT NULL,
	state      TEXT NOT NULL,
	aware_at   INTEGER NOT NULL,
	opened_by  TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX incidents_state ON incidents (state);

CREATE TABLE incident_hosts (
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	host_id     TEXT NOT NULL REFERENCES hosts(id),
	linked_at   INTEGER NOT NULL,
	linked_by   TEXT NOT NULL,
	reason      TEXT NOT NULL,
	PRIMARY KEY (incident_id, host_id)
);
CREATE INDEX incident_hosts_host ON incident_hosts (host_id);

CREATE TABLE incident_detections (
	incident_id  TEXT NOT NULL REFERENCES incidents(id),
	detection_id INTEGER NOT NULL REFERENCES detections(id),
	host_id      TEXT NOT NULL,
	linked_at    INTEGER NOT NULL,
	linked_by    TEXT NOT NULL,
	reason       TEXT NOT NULL,
	PRIMARY KEY (incident_id, detection_id)
);
CREATE INDEX incident_detections_detection ON incident_detections (detection_id);

CREATE TABLE incident_history (
	id          INTEGER PRIMARY KEY,
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	at          INTEGER NOT NULL,
	actor       TEXT NOT NULL,
	kind        TEXT NOT NULL,
	from_value  TEXT NOT NULL,
	to_value    TEXT NOT NULL,
	target      TEXT NOT NULL,
	reason      TEXT NOT NULL
);
CREATE INDEX incident_history_incident ON incident_history (incident_id, id);

CREATE TABLE incident_notes (
	id          TEXT PRIMARY KEY,
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	kind        TEXT NOT NULL,
	author      TEXT NOT NULL,
	text        TEXT NOT NULL,
	at          INTEGER NOT NULL
);
CREATE INDEX incident_notes_incident ON incident_notes (incident_id, at);
