package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrLocked means another daemon holds the state directory.
var ErrLocked = errors.New("state directory is in use by another cmanagerd")

// ErrNoRecord means a container's directory holds files but no state.json.
var ErrNoRecord = errors.New("state.json is missing")

// held are the state directories locked by this process: a POSIX record
// lock does not keep the process that holds it out, so this does.
var held = struct {
	sync.Mutex
	dirs map[string]bool
}{dirs: map[string]bool{}}

const (
	stateFile    = "state.json"
	deletePrefix = ".deleted-"
)

// Store is an open state directory.
type Store struct {
	dir     string
	lock    *os.File
	warning string // what NextBoot found wrong and got past
}

// Warning says what the store found damaged and got past, if anything.
func (s *Store) Warning() string { return s.warning }

// Open creates the state directory if needed and locks it, so two daemons
// never write the same files. The lock is a POSIX record lock (fcntl), not
// flock: it belongs to this process alone, so a child forked but not yet
// exec'd, which shares the lock file's description, does not hold it and
// cannot keep a restarted daemon out once this one is dead.
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
	held.Lock()
	defer held.Unlock()
	if held.dirs[dir] {
		lock.Close()
		return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
	}
	wrlock := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	if err := unix.FcntlFlock(lock.Fd(), unix.F_SETLK, &wrlock); err != nil {
		lock.Close()
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
			holder := unix.Flock_t{Type: unix.F_WRLCK}
			if unix.FcntlFlock(lock.Fd(), unix.F_GETLK, &holder) == nil && holder.Type != unix.F_UNLCK {
				return nil, fmt.Errorf("%s: %w (pid %d)", dir, ErrLocked, holder.Pid)
			}
			return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	held.dirs[dir] = true
	return &Store{dir: dir, lock: lock}, nil
}

// Close releases the lock.
func (s *Store) Close() error {
	held.Lock()
	defer held.Unlock()
	delete(held.dirs, s.dir)
	return s.lock.Close()
}

// Dir is the state directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) containers() string { return filepath.Join(s.dir, "containers") }

// ContainerDir is where a container's files live: its state.json, the
// bundle the daemon writes, and whatever its shim keeps (container.log).
func (s *Store) ContainerDir(id string) string { return filepath.Join(s.containers(), id) }

// Create makes the container's directory durably and writes its first
// state. If it fails, it leaves no directory behind.
func (s *Store) Create(id string, data []byte) error { return s.CreateWith(id, data, nil) }

// CreateWith is Create with files of the caller's written by fill into the
// directory before the state: a crash before the state is written leaves
// a create that was never acknowledged, which Load removes.
func (s *Store) CreateWith(id string, data []byte, fill func(dir string) error) (err error) {
	if err := os.Mkdir(s.ContainerDir(id), 0o700); err != nil {
		return fmt.Errorf("create container directory: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(s.ContainerDir(id))
		}
	}()
	if fill != nil {
		if err := fill(s.ContainerDir(id)); err != nil {
			return err
		}
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
	// Opened first: out of descriptors, Remove fails before it changes anything.
	dir, err := os.Open(s.containers())
	if err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	defer dir.Close()
	aside := filepath.Join(s.containers(), deletePrefix+id)
	if err := os.Rename(s.ContainerDir(id), aside); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	if err := dir.Sync(); err != nil {
		// Not durable: put it back, so the container is there or gone, not both.
		os.Rename(aside, s.ContainerDir(id))
		return fmt.Errorf("remove container %s: fsync %s: %w", id, dir.Name(), err)
	}
	if err := os.RemoveAll(aside); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}

// Record is one container's stored state, or (Err) why it cannot be read:
// ErrNoRecord, or the read's error. Data may then be garbage.
type Record struct {
	ID   string
	Data []byte
	Err  error
}

// Load reads every container's state. It finishes what a crash
// interrupted: it removes directories renamed aside for deletion and
// empty directories (a create that was never acknowledged). A directory
// that holds files but no readable state.json is kept and returned with
// Err set: what happened to it is for the daemon to report, and its files
// (logs, bundle, a live shim's socket) are not the store's to delete.
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
			if unacknowledged(path) {
				if err := os.RemoveAll(path); err != nil {
					return nil, fmt.Errorf("clean up %s: %w", path, err)
				}
				continue
			}
			err = ErrNoRecord
		}
		if err != nil {
			err = fmt.Errorf("load container %s: %w", e.Name(), err)
		}
		out = append(out, Record{ID: e.Name(), Data: data, Err: err})
	}
	return out, nil
}

// unacknowledged reports whether a container directory without state.json
// is what a create leaves when it dies before writing its record: nothing
// but the bundle (see CreateWith) and the record's temporary file. No
// shim ever ran there: it would have left its lock and logs.
func unacknowledged(path string) bool {
	entries, err := os.ReadDir(path)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() != "bundle" && !strings.HasPrefix(e.Name(), "."+stateFile+".tmp-") {
			return false
		}
	}
	return true
}

// garbledBoot is the first boot count after the boot file was found
// garbled: 2^23 plus the minutes since the epoch modulo 2^23, above any
// count reached by restarts, and low enough that boot<<40 stays in 64 bits.
func garbledBoot() uint64 {
	return 1<<23 | uint64(time.Now().Unix()/60)&(1<<23-1)
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
		if err != nil || boot >= 1<<24-1 {
			// Event numbers must still grow: start above any count restarts reach.
			boot = garbledBoot()
			s.warning = fmt.Sprintf("boot count in %s is garbled (%q); counting on from %d", path, data, boot+1)
		}
	}
	boot++
	if err := WriteFileAtomic(path, []byte(strconv.FormatUint(boot, 10)+"\n"), 0o600); err != nil {
		return 0, err
	}
	return boot, nil
}
