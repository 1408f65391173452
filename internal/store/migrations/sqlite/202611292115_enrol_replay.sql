-- Enrolment remembers each host's key and certificate, so a CSR sent again
-- (a retry after a lost answer, or a replay) gets the same host back
-- instead of making a second one.
ALTER TABLE hosts ADD COLUMN key_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN cert_pem TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX hosts_key ON hosts (key_sha256) WHERE key_sha256 <> '';
