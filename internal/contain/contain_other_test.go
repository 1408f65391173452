//go:build !linux

package contain_test

import (
	"errors"
	"testing"

	"github.com/mamori-dev/mamori/internal/contain"
)

func TestNewUnsupported(t *testing.T) {
	iso, err := contain.New()
	if !errors.Is(err, errors.ErrUnsupported) || iso != nil {
		t.Fatalf("New() = %v, %v; want nil and an error wrapping errors.ErrUnsupported", iso, err)
	}
}
