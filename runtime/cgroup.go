package runtime

import (
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/cgroupfs"
	"cm/runtime/rootfs"
	"cm/runtime/spec"
)

// cgroup is the container's group in every hierarchy of the host.
type cgroup = cgroupfs.Group

// createCgroup makes the container's cgroup and writes its limits. The
// init is moved in before it runs anything of the user's. The CPU share
// and bandwidth limits come back unapplied (see deferCPU). located gets
// the group once its paths are known, before it is made.
func (c *Container) createCgroup(s *specs.Spec, warn func(string), located func(cgroup)) (cgroup, *specs.LinuxCPU, error) {
	host, err := c.cgroupHost()
	if err != nil {
		return nil, nil, err
	}
	path, err := cgroupfs.ResolvePath(s.Linux.CgroupsPath, c.ID)
	if err != nil {
		return nil, nil, &spec.ConfigError{Field: "linux.cgroupsPath", Problem: err.Error()}
	}
	resources := withDefaultDevices(s)
	if err := host.ValidateResources(resources); err != nil {
		return nil, nil, &spec.ConfigError{Problem: err.Error()}
	}
	g, err := host.Group(path)
	if err != nil {
		return nil, nil, &spec.ConfigError{Field: "linux.cgroupsPath", Problem: err.Error()}
	}
	// A frozen group would freeze the init before it could say it is
	// ready, and create would wait forever. One that exists frozen is
	// someone else's: refuse it before touching it.
	if frozen, _ := g.Frozen(); frozen {
		return nil, nil, fmt.Errorf("cgroup %s: %w (thaw it first, or use another linux.cgroupsPath)", path, ErrFrozen)
	}
	// runc's warning, word for word: the container will share its limits
	// with processes that are not its own, and delete kills them too.
	if pids, err := g.Pids(); err == nil && len(pids) > 0 {
		warn(fmt.Sprintf("container's cgroup is not empty: %d process(es) found", len(pids)))
	}
	located(g)
	if err := g.Create(); err != nil {
		g.Destroy()
		return nil, nil, fmt.Errorf("create cgroup %s: %w", path, err)
	}
	// A new group under a frozen parent is born frozen.
	if frozen, _ := g.Frozen(); frozen {
		g.Destroy()
		return nil, nil, fmt.Errorf("cgroup %s: %w (a parent group is frozen)", path, ErrFrozen)
	}
	early, lateCPU := deferCPU(resources)
	warnings, err := g.Apply(early)
	if err != nil {
		g.Destroy()
		return nil, nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	for _, w := range warnings {
		warn(w)
	}
	return g, lateCPU, nil
}

// deferCPU splits the CPU shares, weight and bandwidth off r: they are
// written once the init has built the container (as runc does, at
// "procReady"), because with Kubernetes' cpu.shares of 2 for a pod's
// sandbox, a busy host starves the init's setup for seconds. The cpuset
// stays: v1 needs it before any task can join.
func deferCPU(r *specs.LinuxResources) (early *specs.LinuxResources, late *specs.LinuxCPU) {
	if r == nil || r.CPU == nil {
		return r, nil
	}
	cpu := *r.CPU
	cpu.Cpus, cpu.Mems = "", ""
	if cpu == (specs.LinuxCPU{}) {
		return r, nil
	}
	copied := *r
	copied.CPU = nil
	if r.CPU.Cpus != "" || r.CPU.Mems != "" {
		copied.CPU = &specs.LinuxCPU{Cpus: r.CPU.Cpus, Mems: r.CPU.Mems}
	}
	return &copied, &cpu
}

// applyLateCPU writes the CPU limits deferCPU held back.
func (p *pendingCgroup) applyLateCPU(warn func(string)) error {
	if p.lateCPU == nil {
		return nil
	}
	warnings, err := p.cg.Apply(&specs.LinuxResources{CPU: p.lateCPU})
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", p.cg.Path(), err)
	}
	for _, w := range warnings {
		warn(w)
	}
	return nil
}

// pendingCgroup is a container's cgroup being made in another goroutine,
// while stage 0 of its init starts and creates its namespaces: stage 0
// needs the cgroup's paths for its bootstrap, and the cgroup itself only
// when it moves in.
type pendingCgroup struct {
	done       chan struct{}
	located    chan struct{} // closed once the group's paths are known (where), or it failed before
	where      cgroup        // the group being made; nil if it failed before that
	creating   bool          // made by createCgroupAsync, not existing already (exec)
	cg         cgroup
	lateCPU    *specs.LinuxCPU // applied once the init is ready
	err        error
	warnings   []string
	start, end time.Time
}

// createCgroupAsync starts createCgroup; wait collects it.
func (c *Container) createCgroupAsync(s *specs.Spec) *pendingCgroup {
	p := &pendingCgroup{done: make(chan struct{}), located: make(chan struct{}), creating: true, start: time.Now()}
	go func() {
		defer close(p.done)
		var once sync.Once
		locate := func(g cgroup) { once.Do(func() { p.where = g; close(p.located) }) }
		defer locate(nil) // it failed before it knew the group
		p.cg, p.lateCPU, p.err = c.createCgroup(s, func(w string) { p.warnings = append(p.warnings, w) }, locate)
		p.end = time.Now()
	}()
	return p
}

// location returns the group being made as soon as its paths are known,
// or nil if making it failed before that (wait has the error).
func (p *pendingCgroup) location() cgroup {
	<-p.located
	return p.where
}

// wait returns the cgroup once it is made.
func (p *pendingCgroup) wait() (cgroup, error) {
	<-p.done
	return p.cg, p.err
}

// existingCgroup wraps a cgroup that already exists (exec) as a pending one.
func existingCgroup(cg cgroup) *pendingCgroup {
	p := &pendingCgroup{done: make(chan struct{}), located: make(chan struct{}), where: cg, cg: cg}
	close(p.located)
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

// defaultDeviceRules are the device cgroup rules runc 1.1 appends after the
// config's own (libcontainer/specconv AllowedDevices): mknod of any node,
// the runtime-spec's default devices, the terminals (/dev/pts/*, ptmx;
// /dev/console is a bind mount of a pts) and /dev/net/tun. Nothing else
// is allowed unless linux.resources.devices says so: a node listed in
// linux.devices is made, not allowed.
var defaultDeviceRules = func() []defaultDeviceRule {
	rule := func(path, typ string, major, minor int64, access string) defaultDeviceRule {
		return defaultDeviceRule{path, specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: access}}
	}
	rules := []defaultDeviceRule{rule("", "c", -1, -1, "m"), rule("", "b", -1, -1, "m")}
	for _, d := range rootfs.DefaultDevices() {
		rules = append(rules, rule(d.Path, d.Type, d.Major, d.Minor, "rwm"))
	}
	return append(rules, rule("", "c", 136, -1, "rwm"), rule("", "c", 5, 2, "rwm"), rule("", "c", 10, 200, "rwm"))
}()

// defaultDeviceRule is a default rule and the path of the default device
// it is for, if any.
type defaultDeviceRule struct {
	path string
	rule specs.LinuxDeviceCgroup
}

// deviceRules returns the config's device rules followed by the default
// ones, which therefore win. As in runc, a default device that
// linux.devices redefines (same path) loses its rule: the node at that
// path is then the config's, and only the config's rules allow it.
func deviceRules(rules []specs.LinuxDeviceCgroup, devices []specs.LinuxDevice) []specs.LinuxDeviceCgroup {
	out := append([]specs.LinuxDeviceCgroup{}, rules...)
next:
	for _, d := range defaultDeviceRules {
		for _, own := range devices {
			if d.path != "" && own.Path == d.path {
				continue next
			}
		}
		out = append(out, d.rule)
	}
	return out
}

// withDefaultDevices returns linux.resources with the device rules the
// container's cgroup gets: always a deny-all default (the kernel's
// starting point), the config's rules, then the defaults.
func withDefaultDevices(s *specs.Spec) *specs.LinuxResources {
	var copied specs.LinuxResources
	if s.Linux.Resources != nil {
		copied = *s.Linux.Resources
	}
	copied.Devices = deviceRules(copied.Devices, s.Linux.Devices)
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
