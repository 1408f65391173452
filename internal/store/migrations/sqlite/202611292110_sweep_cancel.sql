-- A sweep can be cancelled: hosts that had not finished stop being sent it.
ALTER TABLE sweeps ADD COLUMN cancelled_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN cancelled_by TEXT NOT NULL DEFAULT '';
