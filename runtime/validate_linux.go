package runtime

import (
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/runtime/namespace"
	"cm/runtime/seccomp"
)

func checkLinux(s *specs.Spec) error {
	l := s.Linux
	if l == nil {
		return configErr("linux", "must be set on Linux")
	}
	checks := []func(*specs.Spec) error{
		checkNamespaces, checkIDMappings, checkTimeOffsets, checkSysctl,
		checkDevices, checkPaths, checkPersonality, checkSeccomp, checkUnsupportedLinux,
	}
	for _, check := range checks {
		if err := check(s); err != nil {
			return err
		}
	}
	return nil
}

func checkNamespaces(s *specs.Spec) error {
	seen := map[specs.LinuxNamespaceType]bool{}
	joined := 0
	for i, ns := range s.Linux.Namespaces {
		field := fmt.Sprintf("linux.namespaces[%d]", i)
		if _, ok := namespace.Lookup(ns.Type); !ok {
			return configErr(field+".type", "unknown namespace type %q (want one of %s)", ns.Type, strings.Join(namespace.Types(), ", "))
		}
		if seen[ns.Type] {
			return configErr(field+".type", "namespace %q is listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path == "" {
			continue
		}
		joined++
		if !filepath.IsAbs(ns.Path) {
			return configErr(field+".path", "%q must be an absolute path", ns.Path)
		}
		if err := namespace.CheckPath(ns); err != nil {
			return configErr(field+".path", "%v", err)
		}
	}
	if joined > namespace.MaxJoined {
		return configErr("linux.namespaces", "at most %d namespaces can be joined by path", namespace.MaxJoined)
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
			return configErr(m.field, "needs a new user namespace in linux.namespaces")
		}
		if newUserns && len(m.maps) == 0 {
			return configErr(m.field, "must not be empty when a new user namespace is created")
		}
		if len(m.maps) > 340 {
			return configErr(m.field, "the kernel accepts at most 340 lines")
		}
		for i, a := range m.maps {
			field := fmt.Sprintf("%s[%d]", m.field, i)
			if a.Size == 0 {
				return configErr(field+".size", "must be greater than zero")
			}
			if uint64(a.ContainerID)+uint64(a.Size) > 1<<32 || uint64(a.HostID)+uint64(a.Size) > 1<<32 {
				return configErr(field, "range overflows 32-bit ids")
			}
			for j, b := range m.maps[:i] {
				if overlaps(a.ContainerID, b.ContainerID, a.Size, b.Size) {
					return configErr(field, "container ids overlap %s[%d]", m.field, j)
				}
				if overlaps(a.HostID, b.HostID, a.Size, b.Size) {
					return configErr(field, "host ids overlap %s[%d]", m.field, j)
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
		return configErr("linux.timeOffsets", "needs a new time namespace in linux.namespaces")
	}
	for clock, off := range s.Linux.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return configErr("linux.timeOffsets", "unknown clock %q (want monotonic or boottime)", clock)
		}
		if off.Nanosecs >= 1e9 {
			return configErr("linux.timeOffsets."+clock+".nanosecs", "must be below 1000000000")
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
			return configErr(field, "is not namespaced; setting it would change the host")
		}
		ns := namespace.Find(s, need)
		if ns == nil || ns.Path != "" {
			return configErr(field, "needs a new %s namespace", need)
		}
		if strings.Contains(key, "..") || strings.ContainsAny(key, "/\x00") {
			return configErr(field, "is not a valid sysctl name")
		}
	}
	return nil
}

func checkDevices(s *specs.Spec) error {
	for i, d := range s.Linux.Devices {
		field := fmt.Sprintf("linux.devices[%d]", i)
		if !filepath.IsAbs(d.Path) {
			return configErr(field+".path", "%q must be an absolute path", d.Path)
		}
		switch d.Type {
		case "c", "u", "b":
			if d.Major < 0 || d.Minor < 0 {
				return configErr(field, "major and minor must not be negative")
			}
		case "p":
		default:
			return configErr(field+".type", "unknown device type %q (want c, b, u or p)", d.Type)
		}
	}
	return nil
}

func checkPaths(s *specs.Spec) error {
	for name, paths := range map[string][]string{"linux.maskedPaths": s.Linux.MaskedPaths, "linux.readonlyPaths": s.Linux.ReadonlyPaths} {
		for i, p := range paths {
			if !filepath.IsAbs(p) {
				return configErr(fmt.Sprintf("%s[%d]", name, i), "%q must be an absolute path", p)
			}
		}
	}
	if p := s.Linux.RootfsPropagation; p != "" {
		if _, ok := propagationFlags[p]; !ok {
			return configErr("linux.rootfsPropagation", "unknown mode %q", p)
		}
	}
	return nil
}

func checkPersonality(s *specs.Spec) error {
	p := s.Linux.Personality
	if p == nil {
		return nil
	}
	if _, ok := personalities[p.Domain]; !ok {
		return configErr("linux.personality.domain", "unknown domain %q (want LINUX or LINUX32)", p.Domain)
	}
	if len(p.Flags) > 0 {
		return configErr("linux.personality.flags", "no flags are defined, got %v", p.Flags)
	}
	return nil
}

func checkSeccomp(s *specs.Spec) error {
	if err := seccomp.Validate(s.Linux.Seccomp); err != nil {
		return &ConfigError{Problem: err.Error()}
	}
	return nil
}

// checkUnsupportedLinux refuses what cmrun cannot do rather than ignoring it.
func checkUnsupportedLinux(s *specs.Spec) error {
	l := s.Linux
	switch {
	case l.IntelRdt != nil:
		return configErr("linux.intelRdt", "not supported by cmrun")
	case len(l.NetDevices) > 0:
		return configErr("linux.netDevices", "not supported by cmrun")
	case l.MemoryPolicy != nil:
		return configErr("linux.memoryPolicy", "not supported by cmrun")
	case l.MountLabel != "":
		return configErr("linux.mountLabel", "SELinux is not supported by cmrun")
	}
	return nil
}
