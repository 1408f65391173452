package agent

import (
	"time"

	"github.com/mamori-dev/mamori/internal/scan"
	"github.com/mamori-dev/mamori/internal/yara"
)

// compileYARA compiles a bundle's rule text once; the matcher is shared by
// every scan that uses the bundle.
func compileYARA(src, name string, timeout time.Duration) (scan.Matcher, error) {
	rules, err := yara.Compile(src, name, yara.CompileOptions{})
	if err != nil {
		return nil, err
	}
	return rules.Matcher(timeout), nil
}
