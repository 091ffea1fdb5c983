package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/cgroupfs"
	"cm/runtime/lazyjson"
	"cm/runtime/spec"
)

// DefaultRoot is where cmrun and cmshim keep containers' state unless
// told otherwise (--root, --runtime-root).
const DefaultRoot = "/run/cmrun"

// The files of a container's state directory, <root>/<id>/.
const (
	stateFile = "state.json" // written once the init is waiting for start
	fifoFile  = "exec.fifo"  // present while the container is "created"
)

// StatusPaused is runc's extra status for a frozen container.
const StatusPaused specs.ContainerState = "paused"

// Container is what cmrun remembers about one container between
// invocations. It is written atomically (temp file + rename) so a reader
// never sees half a file.
type Container struct {
	ID         string      `json:"id"`
	Bundle     string      `json:"bundle"`
	Rootfs     string      `json:"rootfs"`
	Pid        int         `json:"pid"`
	PidStart   uint64      `json:"pidStartTime"` // guards against pid reuse
	Created    time.Time   `json:"created"`
	CgroupPath string      `json:"cgroupPath"`
	Config     *specs.Spec `json:"config"`

	root string // the --root directory it lives under
	// cgroups is the host's cgroup layout once this process has read it
	// (reading /proc/self/mountinfo is a few tenths of a millisecond), so
	// "cmrun run" reads it once for create and delete.
	cgroups *cgroupfs.Host
}

// Dir is the container's state directory.
func (c *Container) Dir() string { return filepath.Join(c.root, c.ID) }

// Load reads a container's state. A container whose directory exists but
// whose state file does not is still being created.
func Load(root, id string) (*Container, error) {
	if err := spec.CheckID(id); err != nil {
		return nil, err
	}
	if err := checkStateRoot(root); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	if err := checkPrivateDir("container state directory", dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q %w", id, ErrNotExist)
		}
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		if _, derr := os.Stat(dir); derr == nil {
			return &Container{ID: id, root: root}, nil
		}
		return nil, fmt.Errorf("container %q %w", id, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("read state of %s: %w", id, err)
	}
	c := &Container{}
	if err := lazyjson.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("state of %s is corrupt: %w", id, err)
	}
	c.root = root
	if err := c.checkConsistent(id); err != nil {
		return nil, fmt.Errorf("state of %s is corrupt: %w", id, err)
	}
	return c, nil
}

// checkConsistent refuses a state file that names another container or a
// cgroup other than the one its config puts it in: kill --all and delete
// act on every process of that cgroup.
func (c *Container) checkConsistent(id string) error {
	if c.ID != id {
		return fmt.Errorf("it records id %q", c.ID)
	}
	if c.CgroupPath == "" {
		return nil
	}
	cgroupsPath := ""
	if c.Config != nil && c.Config.Linux != nil {
		cgroupsPath = c.Config.Linux.CgroupsPath
	}
	want, err := cgroupfs.ResolvePath(cgroupsPath, id)
	if err != nil {
		return err
	}
	if c.CgroupPath != want {
		return fmt.Errorf("cgroupPath %q is not %q, where linux.cgroupsPath puts it", c.CgroupPath, want)
	}
	return nil
}

// List returns every container under root, sorted by id.
func List(root string) ([]*Container, error) {
	if err := checkStateRoot(root); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	var out []*Container
	for _, e := range entries {
		// The seccomp cache shares the root with the containers; it is
		// not one of them.
		if !e.IsDir() || e.Name() == seccompCacheDir || spec.CheckID(e.Name()) != nil {
			continue
		}
		c, err := Load(root, e.Name())
		if errors.Is(err, ErrNotExist) {
			continue // deleted while we looked
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// save writes the state file atomically.
func (c *Container) save() error {
	data, err := lazyjson.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp := filepath.Join(c.Dir(), stateFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(c.Dir(), stateFile)); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}

// Status derives the OCI status from the world, not from a stored word:
// the init's liveness and the exec fifo's presence cannot go stale.
func (c *Container) Status() specs.ContainerState {
	if c.Config == nil {
		return specs.StateCreating
	}
	if !c.initAlive() {
		return specs.StateStopped
	}
	if _, err := os.Lstat(filepath.Join(c.Dir(), fifoFile)); err == nil {
		return specs.StateCreated
	}
	if frozen, _ := c.frozen(); frozen {
		return StatusPaused
	}
	return specs.StateRunning
}

// OCIState is the state document of the runtime-spec ("state" command, hooks).
func (c *Container) OCIState() specs.State {
	st := specs.State{Version: specs.Version, ID: c.ID, Status: c.Status(), Bundle: c.Bundle}
	if c.Config != nil {
		st.Annotations = c.Config.Annotations
	}
	if st.Status != specs.StateStopped && st.Status != specs.StateCreating {
		st.Pid = c.Pid
	}
	return st
}

// initAlive reports whether the recorded init still runs (a zombie does not count).
func (c *Container) initAlive() bool {
	if c.Pid <= 0 {
		return false
	}
	state, start, err := procStat(c.Pid)
	return err == nil && start == c.PidStart && state != 'Z' && state != 'X'
}

// procStat reads a process's state letter and start time from /proc/PID/stat.
func procStat(pid int) (byte, uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may contain anything, so
	// fields are counted after the last ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return fields[0][0], start, nil
}

// initInCgroup reports whether the recorded init is in the container's
// cgroup: listed in it, or (for an absolute cgroups path, as hierarchies
// mounted at their root show it in /proc/PID/cgroup) in a cgroup below it,
// where an init such as systemd may have moved itself.
func (c *Container) initInCgroup() bool {
	if c.CgroupPath == "" {
		return false
	}
	if cg, err := c.cgroup(); err == nil {
		if pids, err := cg.Pids(); err == nil && slices.Contains(pids, c.Pid) {
			return true
		}
	}
	if !strings.HasPrefix(c.CgroupPath, "/") {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(c.Pid) + "/cgroup")
	if err != nil {
		return false
	}
	below := strings.TrimSuffix(c.CgroupPath, "/") + "/"
	for _, line := range strings.Split(string(data), "\n") {
		// hierarchy-ID:controllers:path; the path may contain ':'.
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && strings.HasPrefix(parts[2], below) {
			return true
		}
	}
	return false
}
