// Package dbfile owns the permissions of the SQLite database files mamori
// keeps (the server's store, the agent's queue): they hold paths, hashes,
// host details and personal-data metadata, so only their owner reads them.
package dbfile
