package spec

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkLinux checks the linux section of the config (not the host's OS).
func checkLinux(s *specs.Spec, checkSeccomp SeccompCheck) error {
	l := s.Linux
	if l == nil {
		return NewConfigError("linux", "must be set on Linux")
	}
	checks := []func(*specs.Spec) error{
		checkNamespaces, checkIDMappings, checkTimeOffsets, checkSysctl,
		checkDevices, checkPaths, checkPersonality,
		func(s *specs.Spec) error { return seccompErr(checkSeccomp(s.Linux.Seccomp)) },
		checkUnsupportedLinux,
	}
	for _, check := range checks {
		if err := check(s); err != nil {
			return err
		}
	}
	return nil
}

func checkDevices(s *specs.Spec) error {
	for i, d := range s.Linux.Devices {
		field := fmt.Sprintf("linux.devices[%d]", i)
		if !filepath.IsAbs(d.Path) {
			return NewConfigError(field+".path", "%q must be an absolute path", d.Path)
		}
		switch d.Type {
		case "c", "u", "b":
			if d.Major < 0 || d.Minor < 0 {
				return NewConfigError(field, "major and minor must not be negative")
			}
		case "p":
		default:
			return NewConfigError(field+".type", "unknown device type %q (want c, b, u or p)", d.Type)
		}
	}
	return nil
}

func checkPaths(s *specs.Spec) error {
	for name, paths := range map[string][]string{"linux.maskedPaths": s.Linux.MaskedPaths, "linux.readonlyPaths": s.Linux.ReadonlyPaths} {
		for i, p := range paths {
			if !filepath.IsAbs(p) {
				return NewConfigError(fmt.Sprintf("%s[%d]", name, i), "%q must be an absolute path", p)
			}
		}
	}
	if p := s.Linux.RootfsPropagation; p != "" {
		if _, ok := Propagation(p); !ok {
			return NewConfigError("linux.rootfsPropagation", "unknown mode %q", p)
		}
	}
	return nil
}

func checkPersonality(s *specs.Spec) error {
	p := s.Linux.Personality
	if p == nil {
		return nil
	}
	if _, ok := Personality(p.Domain); !ok {
		return NewConfigError("linux.personality.domain", "unknown domain %q (want LINUX or LINUX32)", p.Domain)
	}
	if len(p.Flags) > 0 {
		return NewConfigError("linux.personality.flags", "no flags are defined, got %v", p.Flags)
	}
	return nil
}

// seccompErr makes the profile's own field-naming errors a ConfigError.
func seccompErr(err error) error {
	if err != nil {
		return &ConfigError{Problem: err.Error()}
	}
	return nil
}

// checkUnsupportedLinux refuses what cmrun cannot do rather than ignoring it.
func checkUnsupportedLinux(s *specs.Spec) error {
	l := s.Linux
	switch {
	case l.IntelRdt != nil:
		return NewConfigError("linux.intelRdt", "not supported by cmrun")
	case len(l.NetDevices) > 0:
		return NewConfigError("linux.netDevices", "not supported by cmrun")
	case l.MemoryPolicy != nil:
		return NewConfigError("linux.memoryPolicy", "not supported by cmrun")
	case l.MountLabel != "":
		return NewConfigError("linux.mountLabel", "SELinux is not supported by cmrun")
	}
	return nil
}
