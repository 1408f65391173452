// Package demo owns `mamori demo`: a whole breach on one machine, from the
// first detection to the last notice. It starts a real server, real agents
// (each with a directory tree standing for a corporate PC) and an SMTP
// sink on loopback, plants a harmless malware marker, customer files and
// the logs of an intrusion, and plays the incident through the real API
// and the real commands, printing their output. Isolation is simulated:
// the demo never isolates the machine it runs on.
package demo
