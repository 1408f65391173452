//go:build linux

package scan

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// pathMax is Linux's PATH_MAX: the kernel refuses any path argument of this
// many bytes or more, yet a tree may be nested far deeper than that (an
// attacker can build one with mkdirat). Longer paths are resolved a piece at
// a time relative to directory descriptors.
const pathMax = 4096

// openPath opens path like os.OpenFile, also when it is longer than
// PATH_MAX. The returned file keeps the full path as its name.
func openPath(path string, flag int) (*os.File, error) {
	if len(path) < pathMax {
		return os.OpenFile(path, flag, 0)
	}
	dirfd, rest, err := openParents(path)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirfd)
	fd, err := unix.Openat(dirfd, rest, flag|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openParents opens, as an O_PATH descriptor, the longest leading part of
// path that leaves a remainder shorter than PATH_MAX, cutting only at
// slashes, and returns that descriptor with the remainder. Intermediate
// symlinks are followed, as a plain open would follow them.
func openParents(path string) (int, string, error) {
	dirfd := unix.AT_FDCWD
	rest := path
	for len(rest) >= pathMax {
		cut := strings.LastIndexByte(rest[:pathMax-1], '/')
		part := rest[:cut]
		if cut == 0 {
			part = "/"
		}
		if cut < 0 || (cut == 0 && dirfd != unix.AT_FDCWD) {
			closeFD(dirfd)
			return -1, "", &fs.PathError{Op: "open", Path: path, Err: unix.ENAMETOOLONG}
		}
		fd, err := unix.Openat(dirfd, part, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		closeFD(dirfd)
		if err != nil {
			return -1, "", &fs.PathError{Op: "open", Path: path, Err: err}
		}
		dirfd = fd
		rest = rest[cut+1:]
	}
	return dirfd, rest, nil
}

func closeFD(fd int) {
	if fd != unix.AT_FDCWD {
		unix.Close(fd)
	}
}

// lstatPath is os.Lstat for paths of any length.
func lstatPath(path string) (fs.FileInfo, error) {
	if len(path) < pathMax {
		return os.Lstat(path)
	}
	dirfd, rest, err := openParents(path)
	if err != nil {
		return nil, err
	}
	defer closeFD(dirfd)
	return statAt(dirfd, rest, unix.AT_SYMLINK_NOFOLLOW)
}

// readDir lists a directory of any depth. Each entry is stat'ed relative to
// the directory's descriptor (fstatat), so neither the length of path nor a
// rename of one of its parents mid-listing changes which file is described.
// The descriptor is closed before returning: a walk thousands of levels deep
// must not hold one descriptor per level.
func readDir(path string, follow bool) ([]dirEntry, error) {
	f, err := openPath(path, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	// In name order, as os.ReadDir gives them: output stays reproducible.
	slices.Sort(names)
	fd := int(f.Fd())
	out := make([]dirEntry, 0, len(names))
	for _, name := range names {
		e := dirEntry{name: name}
		e.info, e.err = statAt(fd, name, unix.AT_SYMLINK_NOFOLLOW)
		if e.err == nil && e.info.Mode()&fs.ModeSymlink != 0 {
			e.symlink = true
			if follow {
				e.info, e.err = statAt(fd, name, 0)
				if e.err != nil {
					e.err = fmt.Errorf("follow symlink: %w", e.err)
				}
			}
		} else if errors.Is(e.err, fs.ErrNotExist) {
			e.err = fmt.Errorf("vanished during the walk: %w", e.err)
		}
		out = append(out, e)
	}
	return out, err
}

func statAt(dirfd int, name string, flags int) (fs.FileInfo, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, flags); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return &statInfo{name: filepath.Base(name), st: syscall.Stat_t{
		Dev: st.Dev, Ino: st.Ino, Mode: st.Mode, Size: st.Size,
		Uid: st.Uid, Gid: st.Gid,
		Mtim: syscall.Timespec{Sec: st.Mtim.Sec, Nsec: st.Mtim.Nsec},
	}}, nil
}

// statInfo is fs.FileInfo for an fstatat result. Sys returns a
// *syscall.Stat_t, as os.Stat's does, so idOf treats both alike.
type statInfo struct {
	name string
	st   syscall.Stat_t
}

func (s *statInfo) Name() string       { return s.name }
func (s *statInfo) Size() int64        { return s.st.Size }
func (s *statInfo) ModTime() time.Time { return time.Unix(int64(s.st.Mtim.Sec), int64(s.st.Mtim.Nsec)) }
func (s *statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s *statInfo) Sys() any           { return &s.st }

func (s *statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if s.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
