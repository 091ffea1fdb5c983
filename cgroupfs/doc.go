// Package cgroupfs puts a container into its control group and enforces the
// OCI linux.resources limits there, on cgroup v1, cgroup v2 and the
// "hybrid" layout that mixes both.
//
// It owns the container's cgroup directories: it creates them, writes the
// limit files, moves processes in, reads statistics, freezes, signals and
// finally removes them. It never touches cgroups it was not asked to
// manage (except enabling controllers in the parents' cgroup.subtree_control
// on cgroup v2, which the kernel requires before a child can use them), and
// it never mounts or unmounts cgroup filesystems: it only uses the
// hierarchies it finds in /proc/self/mountinfo.
//
// A cgroup is a directory in a cgroup filesystem; its files are the knobs.
// cgroup v1 has one filesystem ("hierarchy") per controller or group of
// co-mounted controllers (/sys/fs/cgroup/memory, /sys/fs/cgroup/cpu,...),
// so one container cgroup is one directory in each hierarchy. cgroup v2
// has one hierarchy for every controller. A hybrid host (systemd's default
// for years) mounts the v1 controllers plus a cgroup2 filesystem, usually
// at /sys/fs/cgroup/unified, that tracks processes and holds whatever
// controllers are not bound to v1.
//
// Typical use by the runtime:
//
//	host, err := cgroupfs.Detect()
//	path, err := cgroupfs.ResolvePath(spec.Linux.CgroupsPath, id)
//	err = host.ValidateResources(spec.Linux.Resources) // before anything is created
//	g, err := host.Group(path)
//	err = g.Create()
//	warnings, err := g.Apply(spec.Linux.Resources)
//	err = g.Add(initPid)
//	...
//	err = g.KillAll(unix.SIGKILL)
//	err = g.Destroy()
package cgroupfs
