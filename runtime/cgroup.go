package runtime

import (
	"fmt"
	"path"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/cgroupfs"
)

// cgroup is the container's group in every hierarchy of the host.
type cgroup = cgroupfs.Group

// createCgroup makes the container's cgroup and writes its limits. The
// init is moved in before it runs anything of the user's.
func (c *Container) createCgroup(s *specs.Spec, warn func(string)) (cgroup, error) {
	host, err := c.cgroupHost()
	if err != nil {
		return nil, err
	}
	path, err := cgroupfs.ResolvePath(s.Linux.CgroupsPath, c.ID)
	if err != nil {
		return nil, &ConfigError{Field: "linux.cgroupsPath", Problem: err.Error()}
	}
	resources := withDefaultDevices(s)
	if err := host.ValidateResources(resources); err != nil {
		return nil, &ConfigError{Problem: err.Error()}
	}
	g, err := host.Group(path)
	if err != nil {
		return nil, &ConfigError{Field: "linux.cgroupsPath", Problem: err.Error()}
	}
	// A frozen group would freeze the init before it could say it is
	// ready, and create would wait forever. One that exists frozen is
	// someone else's: refuse it before touching it.
	if frozen, _ := g.Frozen(); frozen {
		return nil, fmt.Errorf("cgroup %s: %w (thaw it first, or use another linux.cgroupsPath)", path, ErrFrozen)
	}
	// runc's warning, word for word: the container will share its limits
	// with processes that are not its own, and delete kills them too.
	if pids, err := g.Pids(); err == nil && len(pids) > 0 {
		warn(fmt.Sprintf("container's cgroup is not empty: %d process(es) found", len(pids)))
	}
	if err := g.Create(); err != nil {
		g.Destroy()
		return nil, fmt.Errorf("create cgroup %s: %w", path, err)
	}
	// A new group under a frozen parent is born frozen.
	if frozen, _ := g.Frozen(); frozen {
		g.Destroy()
		return nil, fmt.Errorf("cgroup %s: %w (a parent group is frozen)", path, ErrFrozen)
	}
	warnings, err := g.Apply(resources)
	if err != nil {
		g.Destroy()
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	for _, w := range warnings {
		warn(w)
	}
	return g, nil
}

// pendingCgroup is a container's cgroup being made in another goroutine,
// while stage 0 of its init starts: each takes about a millisecond, and
// the init needs the cgroup only once stage 0 asks for its bootstrap.
type pendingCgroup struct {
	done       chan struct{}
	cg         cgroup
	err        error
	warnings   []string
	start, end time.Time
}

// createCgroupAsync starts createCgroup; wait collects it.
func (c *Container) createCgroupAsync(s *specs.Spec) *pendingCgroup {
	p := &pendingCgroup{done: make(chan struct{}), start: time.Now()}
	go func() {
		defer close(p.done)
		p.cg, p.err = c.createCgroup(s, func(w string) { p.warnings = append(p.warnings, w) })
		p.end = time.Now()
	}()
	return p
}

// wait returns the cgroup once it is made.
func (p *pendingCgroup) wait() (cgroup, error) {
	<-p.done
	return p.cg, p.err
}

// existingCgroup wraps a cgroup that already exists (exec) as a pending one.
func existingCgroup(cg cgroup) *pendingCgroup {
	p := &pendingCgroup{done: make(chan struct{}), cg: cg}
	close(p.done)
	return p
}

// cgroup opens the container's existing cgroup.
func (c *Container) cgroup() (cgroup, error) {
	host, err := c.cgroupHost()
	if err != nil {
		return nil, err
	}
	return host.Group(c.CgroupPath)
}

// cgroupHost detects the host's cgroup layout, once per Container value.
func (c *Container) cgroupHost() (*cgroupfs.Host, error) {
	if c.cgroups == nil {
		host, err := cgroupfs.Detect()
		if err != nil {
			return nil, err
		}
		c.cgroups = host
	}
	return c.cgroups, nil
}

// frozen reports whether the container's cgroup is frozen ("paused").
func (c *Container) frozen() (bool, error) {
	if c.CgroupPath == "" {
		return false, nil
	}
	g, err := c.cgroup()
	if err != nil {
		return false, err
	}
	return g.Frozen()
}

// defaultDeviceRules let the container use the devices the runtime-spec
// says it always gets, and its terminals, whatever linux.resources.devices
// denies: without them a "deny all" rule (runc's default config has one)
// would make /dev/null unusable.
var defaultDeviceRules = func() []specs.LinuxDeviceCgroup {
	rule := func(major, minor int64) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Access: "rwm"}
		if minor >= 0 {
			r.Minor = &minor
		}
		return r
	}
	rules := []specs.LinuxDeviceCgroup{rule(5, 2), rule(136, -1), rule(5, 1)} // ptmx, pts/*, console
	for _, d := range defaultDevices {
		rules = append(rules, rule(d.Major, d.Minor))
	}
	return rules
}()

// withDefaultDevices returns linux.resources with the default devices
// and those of linux.devices allowed after the config's own rules.
func withDefaultDevices(s *specs.Spec) *specs.LinuxResources {
	r := s.Linux.Resources
	if r == nil || len(r.Devices) == 0 {
		return r
	}
	copied := *r
	copied.Devices = append(append([]specs.LinuxDeviceCgroup{}, r.Devices...), defaultDeviceRules...)
	for _, d := range s.Linux.Devices {
		major, minor := d.Major, d.Minor
		typ := d.Type
		switch typ {
		case "u":
			typ = "c"
		case "p":
			continue // the device cgroup knows only char and block devices; a fifo needs no rule
		}
		copied.Devices = append(copied.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: "rwm"})
	}
	return &copied
}

// execCgroup is the group an exec'd process joins: the container's, or
// with sub (runc's exec --cgroup) a sub-cgroup of it that must already
// exist in every hierarchy, so that the process cannot leave the
// container's limits.
func (c *Container) execCgroup(sub string) (cgroup, error) {
	if sub == "" {
		return c.cgroup()
	}
	if strings.Contains(sub, ":") {
		return nil, fmt.Errorf("exec --cgroup %q: the controller:path form is not supported by cmrun, give a path for every controller", sub)
	}
	clean := path.Clean("/" + sub)
	if clean == "/" || clean != "/"+strings.Trim(sub, "/") {
		return nil, fmt.Errorf("exec --cgroup %q: want a relative path below the container's cgroup, without . or ..", sub)
	}
	host, err := c.cgroupHost()
	if err != nil {
		return nil, err
	}
	g, err := host.Group(c.CgroupPath + clean)
	if err != nil {
		return nil, fmt.Errorf("exec --cgroup %q: %w", sub, err)
	}
	if _, err := g.Pids(); err != nil {
		return nil, fmt.Errorf("exec --cgroup %q: no such sub-cgroup of container %s: %w", sub, c.ID, err)
	}
	return g, nil
}
