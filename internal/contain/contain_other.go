//go:build !linux

package contain

import (
	"errors"
	"fmt"
	"runtime"
)

// New returns an error wrapping errors.ErrUnsupported: only Linux is
// implemented (see the package documentation for Windows and macOS).
func New(opts ...Option) (Isolator, error) {
	return nil, fmt.Errorf("host isolation on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
