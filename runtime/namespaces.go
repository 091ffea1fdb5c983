package runtime

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/nsexec"
)

// namespaceFlags maps each OCI namespace type to its clone(2) flag.
var namespaceFlags = map[specs.LinuxNamespaceType]uint32{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

const maxJoinedNamespaces = nsexec.MaxNamespacePaths

// joinOrder ranks namespace types for setns: the user namespace first,
// because it grants the privilege to join the namespaces it owns; the
// mount namespace last, because it changes what every path means.
var joinOrder = map[specs.LinuxNamespaceType]int{
	specs.UserNamespace: 0, specs.IPCNamespace: 1, specs.UTSNamespace: 1, specs.NetworkNamespace: 1,
	specs.PIDNamespace: 1, specs.CgroupNamespace: 1, specs.TimeNamespace: 1, specs.MountNamespace: 2,
}

// bootstrapFor builds the message that tells nsexec which namespaces to
// join and which to create.
func bootstrapFor(s *specs.Spec) *nsexec.Bootstrap {
	b := &nsexec.Bootstrap{}
	var joins []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Path != "" {
			joins = append(joins, ns)
		} else {
			b.CloneFlags |= namespaceFlags[ns.Type]
		}
	}
	sort.SliceStable(joins, func(i, j int) bool { return joinOrder[joins[i].Type] < joinOrder[joins[j].Type] })
	for _, ns := range joins {
		b.Join(ns.Type == specs.CgroupNamespace, ns.Path)
	}
	b.TimensOffsets = timensOffsets(s.Linux.TimeOffsets)
	return b
}

// timensOffsets renders linux.timeOffsets in the format of /proc/PID/timens_offsets.
func timensOffsets(offsets map[string]specs.LinuxTimeOffset) string {
	var sb strings.Builder
	for _, clock := range []string{"monotonic", "boottime"} {
		if off, ok := offsets[clock]; ok {
			fmt.Fprintf(&sb, "%s %d %d\n", clock, off.Secs, off.Nanosecs)
		}
	}
	return sb.String()
}

// nsTypeNames maps the kernel's NS_GET_NSTYPE answer back to OCI names.
var nsTypeNames = map[int]specs.LinuxNamespaceType{
	unix.CLONE_NEWPID: specs.PIDNamespace, unix.CLONE_NEWNET: specs.NetworkNamespace,
	unix.CLONE_NEWNS: specs.MountNamespace, unix.CLONE_NEWIPC: specs.IPCNamespace,
	unix.CLONE_NEWUTS: specs.UTSNamespace, unix.CLONE_NEWUSER: specs.UserNamespace,
	unix.CLONE_NEWCGROUP: specs.CgroupNamespace, unix.CLONE_NEWTIME: specs.TimeNamespace,
}

// checkNamespacePath makes sure a path to join exists and is a namespace
// of the declared type, so a typo fails here and not half-way into setns.
func checkNamespacePath(ns specs.LinuxNamespace) error {
	fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", ns.Path, err)
	}
	defer unix.Close(fd)
	kind, err := unix.IoctlRetInt(fd, unix.NS_GET_NSTYPE)
	if err != nil {
		return fmt.Errorf("%s is not a namespace: %w", ns.Path, err)
	}
	if got := nsTypeNames[kind]; got != ns.Type {
		return fmt.Errorf("%s is a %s namespace, not %s", ns.Path, got, ns.Type)
	}
	return nil
}

// idMapText renders OCI id mappings in the format of /proc/PID/uid_map.
func idMapText(maps []specs.LinuxIDMapping) string {
	var sb strings.Builder
	for _, m := range maps {
		fmt.Fprintf(&sb, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	return sb.String()
}
