package shim

import (
	"fmt"
	"io"
	"os"
)

// logFile is container.log with a size cap: once it holds max bytes it is
// renamed to container.log.1 (replacing the one before) and a new file is
// started, so a chatty container can use at most about twice max on disk.
type logFile struct {
	path string
	max  int64 // 0: never rotate
	f    *os.File
	size int64
}

func openLogFile(path string, max int64) (*logFile, error) {
	l := &logFile{path: path, max: max}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *logFile) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open container log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("open container log: %w", err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write splits p at the cap, so no file ever grows past max bytes.
func (l *logFile) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if l.max > 0 && l.size >= l.max {
			if err := l.rotate(); err != nil {
				return written, err
			}
		}
		chunk := p
		if l.max > 0 && int64(len(chunk)) > l.max-l.size {
			chunk = chunk[:l.max-l.size]
		}
		n, err := l.f.Write(chunk)
		written += n
		l.size += int64(n)
		if err != nil {
			return written, fmt.Errorf("write container log: %w", err)
		}
		p = p[n:]
	}
	return written, nil
}

func (l *logFile) rotate() error {
	l.f.Close()
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return fmt.Errorf("rotate container log: %w", err)
	}
	return l.open()
}

func (l *logFile) Close() error { return l.f.Close() }

// copyLog copies the container's output into the log until every writer
// has closed the pipe, then closes both and closes done.
func copyLog(l *logFile, pipe *os.File, done chan<- struct{}) {
	defer close(done)
	defer l.Close()
	defer pipe.Close()
	io.Copy(l, pipe)
}
