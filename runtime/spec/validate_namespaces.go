package spec

import (
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/runtime/namespace"
)

func checkNamespaces(s *specs.Spec) error {
	seen := map[specs.LinuxNamespaceType]bool{}
	joined := 0
	for i, ns := range s.Linux.Namespaces {
		field := fmt.Sprintf("linux.namespaces[%d]", i)
		if _, ok := namespace.Lookup(ns.Type); !ok {
			return NewConfigError(field+".type", "unknown namespace type %q (want one of %s)", ns.Type, strings.Join(namespace.Types(), ", "))
		}
		if seen[ns.Type] {
			return NewConfigError(field+".type", "namespace %q is listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path == "" {
			continue
		}
		joined++
		if !filepath.IsAbs(ns.Path) {
			return NewConfigError(field+".path", "%q must be an absolute path", ns.Path)
		}
		if err := namespace.CheckPath(ns); err != nil {
			return NewConfigError(field+".path", "%v", err)
		}
	}
	if joined > namespace.MaxJoined {
		return NewConfigError("linux.namespaces", "at most %d namespaces can be joined by path", namespace.MaxJoined)
	}
	return nil
}

// checkIDMappings enforces what the kernel would refuse later, with a
// message naming the mapping instead of "write uid_map: invalid argument".
func checkIDMappings(s *specs.Spec) error {
	l := s.Linux
	userns := namespace.Find(s, specs.UserNamespace)
	newUserns := userns != nil && userns.Path == ""
	for _, m := range []struct {
		field string
		maps  []specs.LinuxIDMapping
	}{{"linux.uidMappings", l.UIDMappings}, {"linux.gidMappings", l.GIDMappings}} {
		if len(m.maps) > 0 && !newUserns {
			return NewConfigError(m.field, "needs a new user namespace in linux.namespaces")
		}
		if newUserns && len(m.maps) == 0 {
			return NewConfigError(m.field, "must not be empty when a new user namespace is created")
		}
		if len(m.maps) > 340 {
			return NewConfigError(m.field, "the kernel accepts at most 340 lines")
		}
		for i, a := range m.maps {
			field := fmt.Sprintf("%s[%d]", m.field, i)
			if a.Size == 0 {
				return NewConfigError(field+".size", "must be greater than zero")
			}
			if uint64(a.ContainerID)+uint64(a.Size) > 1<<32 || uint64(a.HostID)+uint64(a.Size) > 1<<32 {
				return NewConfigError(field, "range overflows 32-bit ids")
			}
			for j, b := range m.maps[:i] {
				if overlaps(a.ContainerID, b.ContainerID, a.Size, b.Size) {
					return NewConfigError(field, "container ids overlap %s[%d]", m.field, j)
				}
				if overlaps(a.HostID, b.HostID, a.Size, b.Size) {
					return NewConfigError(field, "host ids overlap %s[%d]", m.field, j)
				}
			}
		}
	}
	return nil
}

func overlaps(a, b, asize, bsize uint32) bool {
	return uint64(a) < uint64(b)+uint64(bsize) && uint64(b) < uint64(a)+uint64(asize)
}

func checkTimeOffsets(s *specs.Spec) error {
	if len(s.Linux.TimeOffsets) == 0 {
		return nil
	}
	ns := namespace.Find(s, specs.TimeNamespace)
	if ns == nil || ns.Path != "" {
		return NewConfigError("linux.timeOffsets", "needs a new time namespace in linux.namespaces")
	}
	for clock, off := range s.Linux.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return NewConfigError("linux.timeOffsets", "unknown clock %q (want monotonic or boottime)", clock)
		}
		if off.Nanosecs >= 1e9 {
			return NewConfigError("linux.timeOffsets."+clock+".nanosecs", "must be below 1000000000")
		}
	}
	return nil
}

// checkSysctl allows only sysctls that belong to a namespace the container
// owns: anything else would change the host.
func checkSysctl(s *specs.Spec) error {
	for key := range s.Linux.Sysctl {
		field := "linux.sysctl." + key
		var need specs.LinuxNamespaceType
		switch {
		case strings.HasPrefix(key, "net."):
			need = specs.NetworkNamespace
		case strings.HasPrefix(key, "fs.mqueue."), key == "kernel.msgmax", key == "kernel.msgmnb",
			key == "kernel.msgmni", key == "kernel.sem", key == "kernel.shmall", key == "kernel.shmmax",
			key == "kernel.shmmni", key == "kernel.shm_rmid_forced":
			need = specs.IPCNamespace
		case key == "kernel.hostname", key == "kernel.domainname":
			need = specs.UTSNamespace
		default:
			return NewConfigError(field, "is not namespaced; setting it would change the host")
		}
		ns := namespace.Find(s, need)
		if ns == nil || ns.Path != "" {
			return NewConfigError(field, "needs a new %s namespace", need)
		}
		if strings.Contains(key, "..") || strings.ContainsAny(key, "/\x00") {
			return NewConfigError(field, "is not a valid sysctl name")
		}
	}
	return nil
}
