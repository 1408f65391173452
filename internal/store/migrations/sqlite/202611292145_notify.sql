-- Notice campaigns and their outbox (internal/notify): one row per
-- (campaign, person, channel) that moves queued → sending → sent | failed
-- | bounced | unknown by compare-and-set on its state.
CREATE TABLE notify_campaigns (
	id TEXT PRIMARY KEY,
	incident_id TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL,
	doc TEXT NOT NULL,
	lease_owner TEXT NOT NULL DEFAULT '',
	lease_until INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX notify_campaigns_incident ON notify_campaigns (incident_id, id);
CREATE TABLE notify_outbox (
	id INTEGER PRIMARY KEY,
	campaign TEXT NOT NULL,
	person_id TEXT NOT NULL,
	channel TEXT NOT NULL,
	state TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	next_at INTEGER NOT NULL DEFAULT 0,
	message_id TEXT NOT NULL DEFAULT '',
	person TEXT NOT NULL,
	response TEXT NOT NULL DEFAULT '',
	bounce TEXT NOT NULL DEFAULT '',
	batch TEXT NOT NULL DEFAULT '',
	queued_at INTEGER NOT NULL DEFAULT 0,
	sending_at INTEGER NOT NULL DEFAULT 0,
	done_at INTEGER NOT NULL DEFAULT 0,
	UNIQUE (campaign, person_id, channel)
);
CREATE INDEX notify_outbox_state ON notify_outbox (campaign, channel, state, id);
CREATE INDEX notify_outbox_message ON notify_outbox (message_id);
