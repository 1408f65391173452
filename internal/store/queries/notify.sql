-- Named queries of notice campaigns and their outbox (internal/notify,
-- through internal/notify/storebox), shared by SQLite and PostgreSQL.

-- name: notify-outbox-insert
INSERT INTO notify_outbox (campaign, person_id, channel, state, attempts, next_at, message_id, person, queued_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (campaign, person_id, channel) DO NOTHING;

-- name: notify-outbox-list
SELECT id, campaign, channel, state, attempts, next_at, message_id, person, response, bounce, batch, queued_at, sending_at, done_at
FROM notify_outbox
WHERE campaign = $1 AND id > $2
  AND ($3 = '' OR channel = $3) AND ($4 = '' OR state = $4) AND ($5 = '' OR batch = $5)
ORDER BY id
LIMIT $6;

-- name: notify-outbox-due
SELECT id, campaign, channel, state, attempts, next_at, message_id, person, response, bounce, batch, queued_at, sending_at, done_at
FROM notify_outbox
WHERE campaign = $1 AND channel = $2 AND state = $3 AND id > $4 AND next_at <= $5
ORDER BY id
LIMIT $6;

-- name: notify-outbox-apply
UPDATE notify_outbox SET state = $1, attempts = $2, next_at = $3,
	response = CASE WHEN $4 = '' THEN response ELSE $4 END,
	bounce = CASE WHEN $5 = '' THEN bounce ELSE $5 END,
	batch = CASE WHEN $6 = '' THEN batch ELSE $6 END,
	sending_at = CASE WHEN CAST($7 AS BIGINT) > 0 THEN CAST($7 AS BIGINT) ELSE sending_at END,
	done_at = CASE WHEN CAST($8 AS BIGINT) > 0 THEN CAST($8 AS BIGINT) ELSE done_at END
WHERE id = $9 AND state = $10;

-- name: notify-outbox-by-message
SELECT id, campaign, channel, state, attempts, next_at, message_id, person, response, bounce, batch, queued_at, sending_at, done_at
FROM notify_outbox
WHERE message_id = $1 AND channel = 'email';

-- name: notify-outbox-counts
SELECT channel, state, count(*) FROM notify_outbox WHERE campaign = $1 GROUP BY channel, state;

-- name: notify-outbox-next-due
SELECT coalesce(min(next_at), -1) FROM notify_outbox WHERE campaign = $1 AND channel = $2 AND state = 'queued';

-- name: notify-campaign-insert
INSERT INTO notify_campaigns (id, incident_id, state, doc, created_at) VALUES ($1, $2, $3, $4, $5);

-- name: notify-campaign-by-id
SELECT doc FROM notify_campaigns WHERE id = $1;

-- name: notify-campaigns-of-incident
SELECT doc FROM notify_campaigns WHERE incident_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: notify-campaign-update
UPDATE notify_campaigns SET state = $2, doc = $3 WHERE id = $1 AND state = $4;

-- name: notify-campaign-lease
UPDATE notify_campaigns SET lease_owner = $2, lease_until = $3
WHERE id = $1 AND (lease_owner = '' OR lease_owner = $2 OR lease_until <= $4 OR lease_owner = $5);

-- name: notify-campaign-lease-holder
SELECT lease_owner FROM notify_campaigns WHERE id = $1;

-- name: notify-campaigns-in-state
SELECT doc FROM notify_campaigns WHERE state = $1 AND id > $2 ORDER BY id LIMIT $3;
