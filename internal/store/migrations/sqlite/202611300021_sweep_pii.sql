-- A sweep may ask its agents for personal-data discovery as well (wire.Sweep.PII).
ALTER TABLE sweeps ADD COLUMN pii INTEGER NOT NULL DEFAULT 0;
