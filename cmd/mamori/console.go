package main

import "github.com/mamori-dev/mamori/internal/console"

// The web console is served by `mamori server` at "/" on the API's port.
func init() { capabilities = append(capabilities, console.Capability) }
