// Package account owns the people who use the fleet server: users with a
// name and one role, the API tokens they authenticate with, and the
// password hashes the console login will check. It holds the rules (what a
// valid name is, which roles exist, how a token is minted and recognised),
// their storage through the store's named queries (queries/account.sql),
// and the server capability: the admin-only users API and the
// authenticator of user tokens. cmd/mamori's user command changes
// accounts directly on the server's data directory.
//
// A token is shown once, when it is minted, and only its SHA-256 is
// stored: a token is 256 random bits, so a fast hash is as good as a slow
// one against guessing, and lookup by hash keeps authentication to one
// indexed read. Passwords, which people choose, are hashed with argon2id.
package account
