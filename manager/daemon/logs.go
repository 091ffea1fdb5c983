package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"cm/manager"
	"cm/shim/proto"
)

// handleLogs sends the container's log; with ?follow=1 it keeps sending
// what is appended until the container is DEAD or LOST.
func (d *Daemon) handleLogs(w http.ResponseWriter, r *http.Request) error {
	follow, err := boolParam(r, "follow")
	if err != nil {
		return err
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	path := filepath.Join(d.store.ContainerDir(e.ID), proto.LogFile)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !follow {
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			w.WriteHeader(http.StatusOK) // nothing written yet
			return nil
		}
		if err != nil {
			return fmt.Errorf("open log: %w", err)
		}
		defer f.Close()
		w.WriteHeader(http.StatusOK)
		io.Copy(w, f)
		return nil
	}
	finished := func() bool {
		s := e.Snap()
		return s.Deleting || s.State == manager.Dead || s.State == manager.Lost
	}
	return d.followLog(r.Context(), w, path, finished)
}

// followLog copies path to w as it grows. It wakes on inotify events in
// the log's directory (writes, and the shim renaming the file when it
// rotates it) and on the daemon's events; it stops once finished() and
// everything written before that has been sent, since a shim reports DEAD
// only after the last output is in the file.
func (d *Daemon) followLog(ctx context.Context, w http.ResponseWriter, path string, finished func() bool) error {
	wake, stop, err := watchDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer stop()
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for {
		changed := d.bus.Changed()
		done := finished()
		for { // copy what is there, following a rotation to the new file
			if f == nil {
				if f, err = os.Open(path); err != nil {
					f = nil
					break
				}
			}
			if _, err := io.Copy(w, f); err != nil {
				return nil // the client left
			}
			if sameFile(f, path) {
				break
			}
			f.Close() // rotated: the old file is fully sent, go on with the new
			f = nil
		}
		if flusher != nil {
			flusher.Flush()
		}
		if done {
			return nil
		}
		select {
		case <-wake:
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}

// sameFile reports whether f is still the file at path.
func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// watchDir returns a channel that receives after any change to files in
// dir, and a function to stop watching.
func watchDir(dir string) (<-chan struct{}, func(), error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("inotify: %w", err)
	}
	mask := uint32(unix.IN_MODIFY | unix.IN_CREATE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE)
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	// A non-blocking fd in an *os.File uses Go's poller, so Close wakes the
	// reader below instead of leaving it blocked.
	file := os.NewFile(uintptr(fd), "inotify")
	wake := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := file.Read(buf); err != nil {
				return
			}
			select {
			case wake <- struct{}{}:
			default: // a wake-up is already pending
			}
		}
	}()
	return wake, func() { file.Close() }, nil
}
