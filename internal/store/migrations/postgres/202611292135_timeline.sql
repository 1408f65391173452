-- Investigation (internal/timeline, internal/investigate): collections are
-- sweeps that gather evidence for an incident; timeline events are what
-- they (and the incident's own records) add; findings are the analysis'
-- conclusions with the decision a person took on each.
CREATE TABLE collections (
	sweep_id    TEXT PRIMARY KEY REFERENCES sweeps(id),
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	spec        TEXT NOT NULL,
	created_at  BIGINT NOT NULL
);
CREATE INDEX collections_incident ON collections (incident_id);

CREATE TABLE timeline_events (
	id          BIGSERIAL PRIMARY KEY,
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	host_id     TEXT NOT NULL,
	event_key   TEXT NOT NULL,
	at          BIGINT NOT NULL,
	source      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	level       TEXT NOT NULL,
	level_rank  INTEGER NOT NULL,
	technique   TEXT NOT NULL,
	rule        TEXT NOT NULL,
	summary     TEXT NOT NULL,
	ref         TEXT NOT NULL,
	fields      TEXT NOT NULL,
	-- key first, so that the host index below is the one host filters use
	UNIQUE (incident_id, event_key, host_id)
);
CREATE INDEX timeline_at ON timeline_events (incident_id, at, id);
CREATE INDEX timeline_host ON timeline_events (incident_id, host_id, at, id);
CREATE INDEX timeline_kind ON timeline_events (incident_id, kind, at, id);

CREATE TABLE investigation_findings (
	id          TEXT PRIMARY KEY,
	incident_id TEXT NOT NULL REFERENCES incidents(id),
	kind        TEXT NOT NULL,
	rule        TEXT NOT NULL,
	body        TEXT NOT NULL,
	state       TEXT NOT NULL,
	decided_by  TEXT NOT NULL,
	decided_at  BIGINT NOT NULL,
	reason      TEXT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX investigation_findings_incident ON investigation_findings (incident_id, id);
