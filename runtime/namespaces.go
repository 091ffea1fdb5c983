package runtime

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/nsexec"
	"cm/runtime/namespace"
)

// The config may join no more namespaces than the preamble has room for;
// this constant expression fails to compile when the two disagree.
const _ = uint(nsexec.MaxNamespacePaths-namespace.MaxJoined) + uint(namespace.MaxJoined-nsexec.MaxNamespacePaths)

// bootstrapFor builds the message that tells nsexec which namespaces to
// join and which to create.
func bootstrapFor(s *specs.Spec) *nsexec.Bootstrap {
	b := &nsexec.Bootstrap{}
	var joins []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Path != "" {
			joins = append(joins, ns)
		} else {
			b.CloneFlags |= namespace.CloneFlag(ns.Type)
		}
	}
	sort.SliceStable(joins, func(i, j int) bool { return namespace.JoinRank(joins[i].Type) < namespace.JoinRank(joins[j].Type) })
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

// idMapText renders OCI id mappings in the format of /proc/PID/uid_map.
func idMapText(maps []specs.LinuxIDMapping) string {
	var sb strings.Builder
	for _, m := range maps {
		fmt.Fprintf(&sb, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	return sb.String()
}
