// Package scan owns the file-scanning pipeline behind `mamori scan` and the
// agent's scans: walking paths safely on hostile file systems, reading each
// file exactly once, computing only the digests the loaded matchers need, and
// handing that one read to every Matcher. Matchers (IOC, YARA, personal data)
// live in their own packages and know nothing of walking, output or servers.
package scan
