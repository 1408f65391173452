-- Named queries of the investigation: collections, timeline events and
-- findings.

-- name: timeline-insert-collection
INSERT INTO collections (sweep_id, incident_id, spec, created_at) VALUES ($1, $2, $3, $4);

-- name: timeline-collection
SELECT incident_id, spec FROM collections WHERE sweep_id = $1;

-- name: timeline-collections
SELECT sweep_id, spec, created_at FROM collections WHERE incident_id = $1 ORDER BY created_at, sweep_id;

-- name: timeline-insert-event
INSERT INTO timeline_events (incident_id, host_id, event_key, at, source, kind, level, level_rank, technique, rule, summary, ref, fields)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (incident_id, host_id, event_key) DO NOTHING;

-- name: timeline-count
SELECT count(*) FROM timeline_events WHERE incident_id = $1;

-- name: timeline-upsert-finding
INSERT INTO investigation_findings (id, incident_id, kind, rule, body, state, decided_by, decided_at, reason, updated_at)
VALUES ($1, $2, $3, $4, $5, 'proposed', '', 0, '', $6)
ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at;

-- name: timeline-findings
SELECT id, kind, rule, body, state, decided_by, decided_at, reason FROM investigation_findings
WHERE incident_id = $1 ORDER BY id;

-- name: timeline-finding
SELECT id, kind, rule, body, state, decided_by, decided_at, reason FROM investigation_findings
WHERE incident_id = $1 AND id = $2;

-- name: timeline-decide-finding
UPDATE investigation_findings SET state = $3, decided_by = $4, decided_at = $5, reason = $6, updated_at = $5
WHERE incident_id = $1 AND id = $2;

-- The timeline pages come in three shapes so that each filter can walk an
-- index in time order: by incident, by incident and host, by incident and
-- kind. $2 is the host or kind; the other filters apply on the way.
-- In the host and kind shapes the end of the window is written +at, which
-- keeps it out of index choice: SQLite without statistics rated the
-- two-sided time range on timeline_at above host or kind on their own
-- index, and walked every event of the incident for a rare kind (460 ms
-- at 200,000 events; 2 ms this way). The walk in time order still ends at
-- LIMIT.

-- name: timeline-page
SELECT id, host_id, event_key, at, source, kind, level, technique, rule, summary, ref, fields
FROM timeline_events
WHERE incident_id = $1 AND $2 = '' AND $3 = ''
  AND level_rank >= $4 AND at >= $5 AND at <= $6
  AND (at > $7 OR (at = $7 AND id > $8))
ORDER BY at, id
LIMIT $9;

-- name: timeline-page-host
SELECT id, host_id, event_key, at, source, kind, level, technique, rule, summary, ref, fields
FROM timeline_events
WHERE incident_id = $1 AND host_id = $2 AND ($3 = '' OR kind = $3)
  AND level_rank >= $4 AND at >= $5 AND +at <= $6
  AND (at > $7 OR (at = $7 AND id > $8))
ORDER BY at, id
LIMIT $9;

-- name: timeline-page-kind
SELECT id, host_id, event_key, at, source, kind, level, technique, rule, summary, ref, fields
FROM timeline_events
WHERE incident_id = $1 AND kind = $2 AND $3 = ''
  AND level_rank >= $4 AND at >= $5 AND +at <= $6
  AND (at > $7 OR (at = $7 AND id > $8))
ORDER BY at, id
LIMIT $9;
