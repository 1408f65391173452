//go:build !unix

package scan

import (
	"io/fs"
	"os"
)

// idOf has no device and inode to offer on this system: loop detection then
// relies on the walk not following links, and the swap check is skipped.
func idOf(fs.FileInfo) (fileID, bool) { return fileID{}, false }

// openFlags: Windows opens neither FIFOs nor symlinks the way Unix does; the
// walker has already refused non-regular files.
func openFlags(bool) int { return os.O_RDONLY }
