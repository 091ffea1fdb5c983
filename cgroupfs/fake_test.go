package cgroupfs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// This file builds fake cgroup trees in a temporary directory: a mountinfo
// text whose mount points are inside it, the matching /proc/self/cgroup
// text, and the files a kernel would show, so DetectFrom and the drivers
// can run against plain files.

// fakeSpec describes a host to fake.
type fakeSpec struct {
	// v1 lists the v1 hierarchies, each by its controllers; co-mounted
	// controllers share one entry ({"cpu", "cpuacct"}).
	v1 [][]string
	// unified lists what the cgroup2 root offers; nil means no cgroup2
	// mount.
	unified []string
	// self is the caller's cgroup in every hierarchy ("/" if empty).
	self string
}

// fakeV1 is a pure v1 host with cpu and cpuacct co-mounted.
var fakeV1 = fakeSpec{v1: [][]string{
	{"cpu", "cpuacct"}, {"cpuset"}, {"memory"}, {"devices"}, {"freezer"},
	{"blkio"}, {"pids"}, {"hugetlb"}, {"net_cls", "net_prio"}, {"name=systemd"},
}}

// fakeHybrid is like this machine: v1 controllers mounted separately,
// hugetlb bound to the cgroup2 mount at unified/.
var fakeHybrid = fakeSpec{
	v1: [][]string{
		{"cpu"}, {"cpuacct"}, {"cpuset"}, {"memory"}, {"devices"}, {"freezer"},
		{"blkio"}, {"pids"}, {"name=systemd"},
	},
	unified: []string{"hugetlb"},
}

// fakeV2 is a pure cgroup2 host.
var fakeV2 = fakeSpec{unified: []string{"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma"}}

type fake struct {
	root string
	spec fakeSpec
	host *Host
}

// mountName is the directory a v1 hierarchy is mounted on, named like the
// kernel's default ("cpu,cpuacct", "systemd" for name=systemd).
func mountName(controllers []string) string {
	return strings.TrimPrefix(strings.Join(controllers, ","), "name=")
}

// unifiedDir is where the cgroup2 mount is: the root itself on a pure v2
// host, unified/ on a hybrid one.
func (f *fake) unifiedMount() string {
	if len(f.spec.v1) == 0 {
		return f.root
	}
	return filepath.Join(f.root, "unified")
}

func newFake(t *testing.T, spec fakeSpec) *fake {
	t.Helper()
	f := &fake{root: t.TempDir(), spec: spec}
	self := spec.self
	if self == "" {
		self = "/"
	}
	var mountinfo, procCgroup strings.Builder
	fmt.Fprintf(&mountinfo, "22 1 0:20 / /proc rw,nosuid - proc proc rw\n")
	for i, ctrls := range spec.v1 {
		point := filepath.Join(f.root, mountName(ctrls))
		require.NoError(t, os.MkdirAll(point, 0o755))
		fmt.Fprintf(&mountinfo, "%d 31 0:%d / %s rw,relatime shared:%d - cgroup cgroup rw,%s\n",
			40+i, 40+i, point, 10+i, strings.Join(ctrls, ","))
		fmt.Fprintf(&procCgroup, "%d:%s:%s\n", len(spec.v1)-i, strings.Join(ctrls, ","), self)
		f.populate(t, point, ctrls, false)
		if slices.Contains(ctrls, "cpuset") {
			// The root cpuset owns every CPU; new children start empty.
			writeFakeFile(t, point, "cpuset.cpus", "0-3")
			writeFakeFile(t, point, "cpuset.mems", "0")
		}
	}
	if spec.unified != nil {
		point := f.unifiedMount()
		require.NoError(t, os.MkdirAll(point, 0o755))
		fmt.Fprintf(&mountinfo, "60 31 0:60 / %s rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n", point)
		fmt.Fprintf(&procCgroup, "0::%s\n", self)
		f.populate(t, point, spec.unified, true)
		writeFakeFile(t, point, "cgroup.controllers", strings.Join(spec.unified, " "))
	}
	host, err := DetectFrom(strings.NewReader(mountinfo.String()), strings.NewReader(procCgroup.String()))
	require.NoError(t, err)
	f.host = host
	return f
}

// v1Files are the knobs a v1 cgroup directory has, by controller, with
// the kernel's defaults.
var v1Files = map[string]map[string]string{
	"": {"cgroup.procs": "", "tasks": ""},
	"memory": {
		"memory.limit_in_bytes": "9223372036854771712", "memory.memsw.limit_in_bytes": "9223372036854771712",
		"memory.soft_limit_in_bytes": "9223372036854771712", "memory.kmem.tcp.limit_in_bytes": "9223372036854771712",
		"memory.swappiness": "60", "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0",
		"memory.use_hierarchy": "1", "memory.usage_in_bytes": "0", "memory.max_usage_in_bytes": "0",
		"memory.memsw.usage_in_bytes": "0", "memory.stat": "cache 0\ntotal_cache 0",
	},
	"cpu": {
		"cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1", "cpu.cfs_burst_us": "0",
		"cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0", "cpu.idle": "0",
		"cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0",
	},
	"cpuacct": {"cpuacct.usage": "0", "cpuacct.usage_user": "0", "cpuacct.usage_sys": "0"},
	"cpuset":  {"cpuset.cpus": "", "cpuset.mems": ""},
	"devices": {"devices.allow": "", "devices.deny": "", "devices.list": "a *:* rwm"},
	"freezer": {"freezer.state": "THAWED"},
	"blkio": {
		"blkio.bfq.weight": "100", "blkio.bfq.weight_device": "",
		"blkio.throttle.read_bps_device": "", "blkio.throttle.write_bps_device": "",
		"blkio.throttle.read_iops_device": "", "blkio.throttle.write_iops_device": "",
		"blkio.throttle.io_service_bytes_recursive": "Total 0", "blkio.throttle.io_serviced_recursive": "Total 0",
	},
	"pids": {"pids.max": "max", "pids.current": "0"},
	"hugetlb": {
		"hugetlb.2MB.limit_in_bytes": "9223372036854771712", "hugetlb.2MB.rsvd.limit_in_bytes": "9223372036854771712",
		"hugetlb.2MB.usage_in_bytes": "0", "hugetlb.2MB.failcnt": "0",
	},
	"net_cls":  {"net_cls.classid": "0"},
	"net_prio": {"net_prio.ifpriomap": "lo 0"},
}

// v2Files are the files a cgroup2 directory has, by controller ("" is the
// core files every cgroup has).
var v2Files = map[string]map[string]string{
	"": {
		"cgroup.procs": "", "cgroup.subtree_control": "", "cgroup.freeze": "0", "cgroup.kill": "",
		"cgroup.events": "populated 0\nfrozen 0", "cgroup.controllers": "",
		"cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0",
	},
	"memory": {
		"memory.max": "max", "memory.swap.max": "max", "memory.low": "0", "memory.high": "max",
		"memory.current": "0", "memory.peak": "0", "memory.swap.current": "0",
		"memory.stat": "anon 0\nfile 0", "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0",
	},
	"cpu": {
		"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "0", "cpu.idle": "0",
		"cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0",
	},
	"cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
	"io":     {"io.weight": "default 100", "io.max": "", "io.stat": ""},
	"pids":   {"pids.max": "max", "pids.current": "0"},
	"hugetlb": {
		"hugetlb.2MB.max": "max", "hugetlb.2MB.rsvd.max": "max", "hugetlb.2MB.current": "0",
		"hugetlb.2MB.events": "max 0", "hugetlb.1GB.max": "max", "hugetlb.1GB.rsvd.max": "max",
		"hugetlb.1GB.current": "0", "hugetlb.1GB.events": "max 0",
	},
	"rdma": {"rdma.max": ""},
}

// populate creates the files of a cgroup directory as the kernel would.
// A real kernel fills a directory the moment it is made; tests call
// makeGroupDirs before Create to play that part.
func (f *fake) populate(t *testing.T, dir string, controllers []string, v2 bool) {
	t.Helper()
	files := v1Files
	if v2 {
		files = v2Files
	}
	for _, c := range append([]string{""}, controllers...) {
		for name, content := range files[c] {
			writeFakeFile(t, dir, name, content)
		}
	}
}

// makeGroupDirs creates and populates a group's directory (and missing
// parents) in every hierarchy, as the kernel would on mkdir.
func (f *fake) makeGroupDirs(t *testing.T, g Group) {
	t.Helper()
	for _, d := range g.(*group).dirs {
		rel, err := filepath.Rel(d.h.mountpoint, d.dir)
		require.NoError(t, err)
		cur := d.h.mountpoint
		for _, c := range strings.Split(rel, "/") {
			cur = filepath.Join(cur, c)
			if _, err := os.Stat(cur); err == nil {
				continue
			}
			require.NoError(t, os.Mkdir(cur, 0o755))
			ctrls := d.h.controllers
			f.populate(t, cur, ctrls, d.h.v2)
			if d.h.v2 {
				// A new v2 child offers what its parent enabled; the fake
				// offers everything, as if enabled.
				writeFakeFile(t, cur, "cgroup.controllers", strings.Join(ctrls, " "))
			}
		}
	}
}

// group returns the group for path with its directories made.
func (f *fake) group(t *testing.T, path string) *group {
	t.Helper()
	g, err := f.host.Group(path)
	require.NoError(t, err)
	f.makeGroupDirs(t, g)
	return g.(*group)
}

// file reads a fake file below the fake root, e.g. "memory/ctr/memory.max".
func (f *fake) file(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(f.root, rel))
	require.NoError(t, err)
	return string(b)
}

func writeFakeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}
