-- Server-wide settings the API changes at run time (auto-isolation policy).
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE INDEX audit_target ON audit (target, id);
