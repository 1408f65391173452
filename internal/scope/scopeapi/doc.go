// Package scopeapi is the server side of scoping: it takes the per-file
// personal-data results agents send (findings of type "pii_file", see
// scope.FileResult) into tables of their own, never the detections, with
// every value sealed under AES-GCM and an HMAC column for equality; it
// builds an incident's register of affected people from the files on the
// incident's hosts (scope.Resolver), and serves it under
// /api/v1/incidents/{id}/: the people (masked), the report's counts, an
// audited reveal for the privacy role, exposure set by people or derived
// from the investigation, CSV and xlsx exports, the customer master data
// and the decisions on merge proposals.
//
// The key is DataDir/pii.key, 32 random bytes made on first start (0600);
// separate subkeys seal values, key the HMAC column and key the person ids.
// Losing the file loses the stored values.
//
// A register is built on demand and cached per incident until what it is
// built from changes: the incident's files, exposure settings, decisions,
// master data or investigation (store.PIIFingerprint); new timeline
// events that change no file's exposure keep it.
package scopeapi
