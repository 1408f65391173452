// Package investigate is the server capability over an incident's
// timeline: the events that collections (internal/server's collect route,
// carried out by agents) and the incident's own records put there, their
// filtered, paged view and Timesketch export, and the analysis
// (internal/timeline) whose findings a person confirms or rejects.
package investigate
