-- Named queries of incidents (internal/incident), shared by SQLite and
-- PostgreSQL.

-- name: incident-insert
INSERT INTO incidents (id, title, summary, severity, state, aware_at, opened_by, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: incident-get
SELECT id, title, summary, severity, state, aware_at, opened_by, created_at, updated_at
FROM incidents WHERE id = $1;

-- name: incident-list
SELECT id, title, summary, severity, state, aware_at, opened_by, created_at, updated_at
FROM incidents
WHERE id > $1 AND ($2 = '' OR state = $2)
ORDER BY id
LIMIT $3;

-- name: incident-set-state
UPDATE incidents SET state = $3, updated_at = $4 WHERE id = $1 AND state = $2;

-- name: incident-touch
UPDATE incidents SET updated_at = $2 WHERE id = $1;

-- name: incident-open-for-host
SELECT i.id FROM incidents i JOIN incident_hosts h ON h.incident_id = i.id
WHERE h.host_id = $1 AND i.state <> 'closed'
ORDER BY i.id;

-- name: incident-latest-auto
SELECT id, title, summary, severity, state, aware_at, opened_by, created_at, updated_at
FROM incidents
WHERE opened_by = $1 AND state <> 'closed'
ORDER BY created_at DESC, id DESC
LIMIT 1;

-- name: incident-link-host
INSERT INTO incident_hosts (incident_id, host_id, linked_at, linked_by, reason)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING;

-- name: incident-unlink-host
DELETE FROM incident_hosts WHERE incident_id = $1 AND host_id = $2;

-- name: incident-hosts
SELECT host_id, linked_at, linked_by, reason FROM incident_hosts WHERE incident_id = $1 ORDER BY host_id;

-- name: incident-hosts-page
SELECT host_id, linked_at, linked_by, reason FROM incident_hosts WHERE incident_id = $1 AND host_id > $2 ORDER BY host_id LIMIT $3;

-- name: incident-link-detection
INSERT INTO incident_detections (incident_id, detection_id, host_id, linked_at, linked_by, reason)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT DO NOTHING;

-- name: incident-unlink-detection
DELETE FROM incident_detections WHERE incident_id = $1 AND detection_id = $2;

-- name: incident-detections
SELECT detection_id, host_id, linked_at, linked_by, reason FROM incident_detections
WHERE incident_id = $1 AND detection_id > $2
ORDER BY detection_id
LIMIT $3;

-- name: incident-counts
SELECT
	(SELECT COUNT(*) FROM incident_hosts WHERE incident_id = $1),
	(SELECT COUNT(*) FROM incident_hosts ih JOIN hosts h ON h.id = ih.host_id
	 WHERE ih.incident_id = $1 AND h.isolation = 'isolated'),
	(SELECT COUNT(*) FROM incident_detections WHERE incident_id = $1),
	(SELECT COUNT(*) FROM incident_notes WHERE incident_id = $1);

-- name: incident-event-insert
INSERT INTO incident_history (incident_id, at, actor, kind, from_value, to_value, target, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: incident-history
SELECT id, incident_id, at, actor, kind, from_value, to_value, target, reason
FROM incident_history WHERE incident_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: incident-note-insert
INSERT INTO incident_notes (id, incident_id, kind, author, text, at) VALUES ($1, $2, $3, $4, $5, $6);

-- name: incident-notes
SELECT id, incident_id, kind, author, text, at FROM incident_notes
WHERE incident_id = $1 AND id > $2 ORDER BY id LIMIT $3;

-- name: incident-host-name
SELECT name, hostname FROM hosts WHERE id = $1;

-- name: incident-detection-host
SELECT host_id FROM detections WHERE id = $1;

-- name: incident-record-host-event
INSERT INTO incident_history (incident_id, at, actor, kind, from_value, to_value, target, reason)
SELECT ih.incident_id, CAST($2 AS BIGINT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT), CAST($6 AS TEXT), ih.host_id, CAST($7 AS TEXT)
FROM incident_hosts ih JOIN incidents i ON i.id = ih.incident_id
WHERE ih.host_id = $1 AND i.state <> 'closed';

-- name: incident-record-fleet-event
INSERT INTO incident_history (incident_id, at, actor, kind, from_value, to_value, target, reason)
SELECT i.id, CAST($1 AS BIGINT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT), 'fleet', CAST($6 AS TEXT)
FROM incidents i
WHERE i.state <> 'closed' AND EXISTS (SELECT 1 FROM incident_hosts ih WHERE ih.incident_id = i.id);
