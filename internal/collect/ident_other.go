//go:build !unix

package collect

import "io/fs"

// fileIdentity has no inode to offer on this system; callers then do without
// their cache.
func fileIdentity(fs.FileInfo) (dev, ino uint64, ok bool) { return 0, 0, false }
