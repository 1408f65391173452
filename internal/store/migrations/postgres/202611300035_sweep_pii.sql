-- A sweep or collection can ask for personal-data discovery: kept with the
-- sweep so that it is sent again, with the flag, after a restart.
ALTER TABLE sweeps ADD COLUMN pii BOOLEAN NOT NULL DEFAULT FALSE;
