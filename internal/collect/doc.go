// Package collect owns the host collectors an agent runs in heightened
// monitoring: running processes with the SHA-256 of their executables,
// network connections with their owning process, and the persistence
// locations attackers use to survive a reboot (cron, systemd units, shell
// start-up files, SSH authorized_keys). Collectors read /proc and the file
// system directly (no cgo, no external tools) and return plain structs; the
// caller decides what a change means and where it goes.
package collect
