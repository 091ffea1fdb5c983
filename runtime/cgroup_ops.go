package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/cgroupfs"
)

// Pause freezes every process of a running container.
func Pause(root, id string) error {
	c, cg, err := loadWithCgroup(root, id)
	if err != nil {
		return err
	}
	if st := c.Status(); st != specs.StateRunning {
		return fmt.Errorf("cannot pause container %s that is %s: %w", id, st, ErrNotRunning)
	}
	return cg.Freeze()
}

// Resume thaws a paused container.
func Resume(root, id string) error {
	c, cg, err := loadWithCgroup(root, id)
	if err != nil {
		return err
	}
	if st := c.Status(); st != StatusPaused {
		return fmt.Errorf("cannot resume container %s that is %s: it is not paused", id, st)
	}
	return cg.Thaw()
}

// Update applies new cgroup limits to a created, running or paused
// container and records them in its state. resources is a JSON
// linux.resources object; only the fields it sets change.
func Update(root, id string, resources io.Reader, warn func(string)) error {
	c, cg, err := loadWithCgroup(root, id)
	if err != nil {
		return err
	}
	if st := c.Status(); st == specs.StateStopped {
		return fmt.Errorf("cannot update container %s: %w", id, ErrNotRunning)
	}
	data, err := io.ReadAll(resources)
	if err != nil {
		return fmt.Errorf("read resources: %w", err)
	}
	var r specs.LinuxResources
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields() // a typo here would silently change nothing
	if err := dec.Decode(&r); err != nil {
		return fmt.Errorf("resources: invalid JSON: %w", err)
	}
	// runc's update does not read device rules (they stay as created), so
	// a file it accepts may carry rules runc never checks, such as "rwa".
	r.Devices = nil
	host, err := cgroupfs.Detect()
	if err != nil {
		return err
	}
	if err := host.ValidateResources(&r); err != nil {
		return err
	}
	warnings, err := cg.Apply(&r)
	for _, w := range warnings {
		warn(w)
	}
	if err != nil {
		return fmt.Errorf("update container %s: %w", id, err)
	}
	mergeResources(c.Config.Linux, &r)
	return c.save()
}

// mergeResources records in l what an update changed.
func mergeResources(l *specs.Linux, r *specs.LinuxResources) {
	if l.Resources == nil {
		l.Resources = &specs.LinuxResources{}
	}
	old := l.Resources
	replaceSet(&old.Memory, r.Memory)
	replaceSet(&old.CPU, r.CPU)
	replaceSet(&old.Pids, r.Pids)
	replaceSet(&old.BlockIO, r.BlockIO)
	if r.HugepageLimits != nil {
		old.HugepageLimits = r.HugepageLimits
	}
	if r.Unified != nil {
		old.Unified = r.Unified
	}
}

// replaceSet replaces *dst by src when an update set src.
func replaceSet[T any](dst **T, src *T) {
	if src != nil {
		*dst = src
	}
}

// Stats reads the usage counters of a container's cgroup.
func Stats(root, id string) (*cgroupfs.Stats, error) {
	c, cg, err := loadWithCgroup(root, id)
	if err != nil {
		return nil, err
	}
	if c.Status() == specs.StateStopped {
		return nil, fmt.Errorf("stats of container %s: %w", id, ErrNotRunning)
	}
	return cg.Stats()
}

// Pids lists the host pids of every process in the container.
func Pids(root, id string) ([]int, error) {
	_, cg, err := loadWithCgroup(root, id)
	if err != nil {
		return nil, err
	}
	return cg.Pids()
}

// OOMKilled reports whether the kernel's OOM killer killed a process of
// the container (the cgroup keeps the count until delete).
func (c *Container) OOMKilled() bool {
	if c.CgroupPath == "" {
		return false
	}
	cg, err := c.cgroup()
	if err != nil {
		return false
	}
	n, err := cg.OOMKillCount()
	return err == nil && n > 0
}

func loadWithCgroup(root, id string) (*Container, cgroup, error) {
	c, err := Load(root, id)
	if err != nil {
		return nil, nil, err
	}
	if c.Config == nil {
		return nil, nil, fmt.Errorf("container %s is still being created", id)
	}
	cg, err := c.cgroup()
	if err != nil {
		return nil, nil, err
	}
	return c, cg, nil
}
