// Package logevent owns the one shape of a log event that every log reader
// (internal/evtx and the Linux and JSON readers) produces and that the Sigma
// engine (internal/sigma), the timeline and the investigation consume. It
// holds no parsing and no matching: readers and engines meet here without
// knowing each other.
package logevent
