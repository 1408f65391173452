package scan

// Options control a scan. The zero value is usable: GOMAXPROCS workers,
// DefaultMaxFileSize, no symlinks followed.
type Options struct {
	Threads        int
	FollowSymlinks bool
	OneFileSystem  bool
	// MaxFileSize bounds content scanning; larger files are hashed only.
	MaxFileSize int64
	// Exclude holds filepath.Match globs tested against both the base name
	// and the full path.
	Exclude []string
	// Progress, when set, is called periodically from one goroutine.
	Progress func(Progress)
}

// DefaultMaxFileSize is the --max-file-size default.
const DefaultMaxFileSize = 256 << 20

// Progress is a snapshot of a running scan.
type Progress struct {
	Files, Bytes int64
	// Queued* count what the walker has found so far, for an ETA.
	QueuedFiles, QueuedBytes int64
	WalkDone                 bool
	Seconds                  float64
}
