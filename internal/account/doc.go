// Package account owns the people who use the fleet server: users with a
// name and one role, the API tokens they authenticate with, and the
// password hashes the console login will check. It holds the rules (what a
// valid name is, which roles exist, how a token is minted and recognised)
// and none of the storage: the store keeps users and token hashes, the
// server authenticates requests with them.
//
// A token is shown once, when it is minted, and only its SHA-256 is
// stored: a token is 256 random bits, so a fast hash is as good as a slow
// one against guessing, and lookup by hash keeps authentication to one
// indexed read. Passwords, which people choose, are hashed with argon2id.
package account
