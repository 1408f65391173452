package hunt

import (
	"embed"
	"io/fs"

	"github.com/mamori-dev/mamori/internal/sigma"
)

//go:embed rules/sigmahq rules/mamori
var defaultRules embed.FS

// DefaultRules compiles the embedded rule set: the SigmaHQ selection
// (rules/README.md) and mamori's own rules. Rule files are named by their
// path under rules/.
func DefaultRules(opts sigma.Options) *sigma.Ruleset {
	rs := sigma.New(opts)
	sub, err := fs.Sub(defaultRules, "rules")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	if err := rs.AddFS(sub, "."); err != nil {
		panic(err) // reading an embed.FS cannot fail
	}
	rs.Build()
	return rs
}
