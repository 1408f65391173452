-- Named queries of scoping (internal/scope/scopeapi): personal-data files
-- and their sealed values, exposure set by people, proposal decisions and
-- the incident's master data.

-- name: pii-file-get
SELECT id, sweep_id, sha256, mtime, parts, categories FROM pii_files WHERE host_id = $1 AND path = $2;

-- name: pii-file-insert
INSERT INTO pii_files (host_id, path, path_raw, sweep_id, sha256, size, mtime, parts, parts_seen, subjects, masked, categories, flags, received_at, rev)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, 0, $9, $10, $11, $12, 0)
RETURNING id;

-- name: pii-file-reset
UPDATE pii_files SET path_raw = $2, sweep_id = $3, sha256 = $4, size = $5, mtime = $6, parts = $7, parts_seen = 0, subjects = 0,
	masked = $8, categories = $9, flags = $10, received_at = $11
WHERE id = $1;

-- name: pii-file-flags
UPDATE pii_files SET flags = $2 WHERE id = $1;

-- name: pii-file-totals
UPDATE pii_files SET parts = $2, masked = $3, categories = $4 WHERE id = $1;

-- name: pii-file-last-part
SELECT COALESCE(MAX(part), -1) FROM pii_file_parts WHERE file_id = $1;

-- name: pii-file-counts
SELECT category, COUNT(*) FROM pii_values WHERE file_id = $1 AND part <> $2 GROUP BY category;

-- name: pii-file-values-delete
DELETE FROM pii_values WHERE file_id = $1;

-- name: pii-file-parts-delete
DELETE FROM pii_file_parts WHERE file_id = $1;

-- name: pii-part-values-delete
DELETE FROM pii_values WHERE file_id = $1 AND part = $2;

-- name: pii-part-upsert
INSERT INTO pii_file_parts (file_id, part, subjects, received_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (file_id, part) DO UPDATE SET subjects = excluded.subjects, received_at = excluded.received_at;

-- name: pii-file-tally
UPDATE pii_files SET
	subjects = (SELECT COALESCE(SUM(subjects), 0) FROM pii_file_parts WHERE file_id = $1),
	parts_seen = (SELECT COUNT(*) FROM pii_file_parts WHERE file_id = $1),
	received_at = $2, rev = rev + 1
WHERE id = $1;

-- name: pii-files-incident
SELECT f.id, f.host_id, f.path, f.path_raw, f.sweep_id, f.sha256, f.size, f.mtime, f.parts, f.parts_seen, f.subjects, f.masked,
	f.categories, f.flags, f.received_at, f.rev
FROM pii_files f JOIN incident_hosts ih ON ih.host_id = f.host_id
WHERE ih.incident_id = $1
ORDER BY f.id;

-- name: pii-values-file
SELECT part, member, record, category, country, mac, sealed FROM pii_values WHERE file_id = $1 ORDER BY part, id;

-- name: pii-values-file-open
SELECT member, record, category, country, sealed FROM pii_values WHERE file_id = $1 ORDER BY part, id;

-- name: pii-fingerprint
SELECT
	(SELECT COUNT(*) FROM pii_files f JOIN incident_hosts ih ON ih.host_id = f.host_id WHERE ih.incident_id = $1),
	(SELECT COALESCE(SUM(f.rev), 0) FROM pii_files f JOIN incident_hosts ih ON ih.host_id = f.host_id WHERE ih.incident_id = $1),
	(SELECT COALESCE(MAX(id), 0) FROM pii_exposure WHERE incident_id = $1),
	(SELECT COUNT(*) FROM pii_decisions WHERE incident_id = $1),
	(SELECT COALESCE(MAX(decided_at), 0) FROM pii_decisions WHERE incident_id = $1),
	(SELECT COALESCE(MAX(uploaded_at), 0) FROM pii_masters WHERE incident_id = $1),
	(SELECT COUNT(*) FROM investigation_findings WHERE incident_id = $1),
	(SELECT COALESCE(MAX(updated_at), 0) FROM investigation_findings WHERE incident_id = $1),
	(SELECT COUNT(*) FROM timeline_events WHERE incident_id = $1);

-- name: pii-exposure-insert
INSERT INTO pii_exposure (incident_id, host_id, pattern, level, set_by, reason, set_at) VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: pii-exposure-list
SELECT id, host_id, pattern, level, set_by, reason, set_at FROM pii_exposure WHERE incident_id = $1 ORDER BY id;

-- name: pii-decision-upsert
INSERT INTO pii_decisions (incident_id, proposal_id, confirm, decided_by, reason, decided_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (incident_id, proposal_id) DO UPDATE SET confirm = excluded.confirm, decided_by = excluded.decided_by,
	reason = excluded.reason, decided_at = excluded.decided_at;

-- name: pii-decisions
SELECT proposal_id, confirm, decided_by, reason, decided_at FROM pii_decisions WHERE incident_id = $1 ORDER BY decided_at, proposal_id;

-- name: pii-master-upsert
INSERT INTO pii_masters (incident_id, name, mapping, row_count, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (incident_id) DO UPDATE SET name = excluded.name, mapping = excluded.mapping, row_count = excluded.row_count,
	uploaded_by = excluded.uploaded_by, uploaded_at = excluded.uploaded_at;

-- name: pii-master-rows-delete
DELETE FROM pii_master_rows WHERE incident_id = $1;

-- name: pii-master-row-insert
INSERT INTO pii_master_rows (incident_id, row_no, sealed) VALUES ($1, $2, $3);

-- name: pii-master
SELECT name, mapping, row_count, uploaded_by, uploaded_at FROM pii_masters WHERE incident_id = $1;

-- name: pii-master-rows
SELECT row_no, sealed FROM pii_master_rows WHERE incident_id = $1 ORDER BY row_no;

-- name: pii-summary-upsert
INSERT INTO pii_summaries (incident_id, summary, built_at) VALUES ($1, $2, $3)
ON CONFLICT (incident_id) DO UPDATE SET summary = excluded.summary, built_at = excluded.built_at;

-- name: pii-summary
SELECT summary FROM pii_summaries WHERE incident_id = $1;
