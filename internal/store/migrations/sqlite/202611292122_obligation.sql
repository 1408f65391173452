-- The facts of each incident's obligations assessment (internal/obligation),
-- as the JSON document `mamori assess` reads, and the narrative its drafts
-- use (obligation.DraftContext as JSON), when a person has set them (with a
-- reason, audited). An incident without a row has derived facts.
CREATE TABLE obligation_facts (
	incident_id TEXT PRIMARY KEY,
	facts       TEXT NOT NULL,
	context     TEXT NOT NULL,
	updated_at  INTEGER NOT NULL,
	updated_by  TEXT NOT NULL,
	reason      TEXT NOT NULL
);
