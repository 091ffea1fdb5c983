package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrLocked means another daemon holds the state directory.
var ErrLocked = errors.New("state directory is in use by another cmanagerd")

const (
	stateFile    = "state.json"
	deletePrefix = ".deleted-"
)

// Store is an open state directory.
type Store struct {
	dir  string
	lock *os.File
}

// Open creates the state directory if needed and locks it (flock), so two
// daemons never write the same files.
func Open(dir string) (*Store, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("state directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "containers"), 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return &Store{dir: dir, lock: lock}, nil
}

// Close releases the lock.
func (s *Store) Close() error { return s.lock.Close() }

// Dir is the state directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) containers() string { return filepath.Join(s.dir, "containers") }

// ContainerDir is where a container's files live: its state.json, the
// bundle the daemon writes, and whatever its shim keeps (container.log).
func (s *Store) ContainerDir(id string) string { return filepath.Join(s.containers(), id) }

// Create makes the container's directory durably and writes its first state.
func (s *Store) Create(id string, data []byte) error {
	if err := os.Mkdir(s.ContainerDir(id), 0o700); err != nil {
		return fmt.Errorf("create container directory: %w", err)
	}
	if err := syncDir(s.containers()); err != nil {
		return err
	}
	return s.Save(id, data)
}

// Save replaces the container's state, crash-safely: once it returns,
// the new state survives a power loss.
func (s *Store) Save(id string, data []byte) error {
	return WriteFileAtomic(filepath.Join(s.ContainerDir(id), stateFile), data, 0o600)
}

// SaveOldOrNew replaces the container's state so that after a power loss
// it is the old state or the new one, never a mix, one fsync cheaper than
// Save. It is for changes that a power loss makes moot: one kills every
// shim and container, and the restarted daemon marks them LOST whatever
// their record said.
func (s *Store) SaveOldOrNew(id string, data []byte) error {
	return writeOldOrNew(filepath.Join(s.ContainerDir(id), stateFile), data, 0o600)
}

// Remove deletes the container's directory. It is first renamed aside in
// one durable step, so a crash halfway through the removal never leaves a
// half-deleted container that Load would bring back.
func (s *Store) Remove(id string) error {
	aside := filepath.Join(s.containers(), deletePrefix+id)
	if err := os.Rename(s.ContainerDir(id), aside); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	if err := syncDir(s.containers()); err != nil {
		return err
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}

// Record is one container's stored state.
type Record struct {
	ID   string
	Data []byte
}

// Load reads every container's state. It finishes what a crash
// interrupted: it removes directories renamed aside for deletion and
// directories without a state.json (a create that was never acknowledged).
func (s *Store) Load() ([]Record, error) {
	entries, err := os.ReadDir(s.containers())
	if err != nil {
		return nil, fmt.Errorf("read state directory: %w", err)
	}
	var out []Record
	for _, e := range entries {
		path := filepath.Join(s.containers(), e.Name())
		if !e.IsDir() || strings.HasPrefix(e.Name(), deletePrefix) {
			if err := os.RemoveAll(path); err != nil {
				return nil, fmt.Errorf("clean up %s: %w", path, err)
			}
			continue
		}
		data, err := os.ReadFile(filepath.Join(path, stateFile))
		if errors.Is(err, os.ErrNotExist) {
			if err := os.RemoveAll(path); err != nil {
				return nil, fmt.Errorf("clean up %s: %w", path, err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load container %s: %w", e.Name(), err)
		}
		out = append(out, Record{ID: e.Name(), Data: data})
	}
	return out, nil
}

// NextBoot counts this start of the daemon and returns the count (1 for
// the first). It is durable before it is returned.
func (s *Store) NextBoot() (uint64, error) {
	path := filepath.Join(s.dir, "boot")
	var boot uint64
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return 0, fmt.Errorf("read boot count: %w", err)
	default:
		boot, err = strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("boot count in %s: %w", path, err)
		}
	}
	boot++
	if err := WriteFileAtomic(path, []byte(strconv.FormatUint(boot, 10)+"\n"), 0o600); err != nil {
		return 0, err
	}
	return boot, nil
}
