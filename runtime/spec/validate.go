package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/capabilities"
	"cm/runtime/namespace"
)

// SeccompCheck checks a linux.seccomp profile. The caller supplies it
// (runtime passes seccomp.Validate) because the profile's vocabulary
// lives with libseccomp, which this package must not link.
type SeccompCheck func(*specs.LinuxSeccomp) error

// Validate checks everything in the bundle that can be checked before
// anything is created, so a bad config leaves nothing behind. Each
// problem is reported with the config.json field it is about.
func (b *Bundle) Validate(checkSeccomp SeccompCheck) error {
	s := b.Spec
	checks := []func(*specs.Spec) error{
		checkVersion,
		b.checkRoot,
		checkProcess,
		func(s *specs.Spec) error { return checkLinux(s, checkSeccomp) },
		checkHostname,
		checkMounts,
		checkHooks,
	}
	for _, check := range checks {
		if err := check(s); err != nil {
			return err
		}
	}
	return nil
}

func checkVersion(s *specs.Spec) error {
	if s.Version == "" {
		return NewConfigError("ociVersion", "must be set")
	}
	if !strings.HasPrefix(s.Version, "1.") {
		return NewConfigError("ociVersion", "%q is not a 1.x runtime-spec version", s.Version)
	}
	return nil
}

func (b *Bundle) checkRoot(s *specs.Spec) error {
	if s.Root == nil || s.Root.Path == "" {
		return NewConfigError("root.path", "must be set")
	}
	path := s.Root.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(b.Dir, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return NewConfigError("root.path", "%s does not exist", path)
		}
		return NewConfigError("root.path", "%v", err)
	}
	if !fi.IsDir() {
		return NewConfigError("root.path", "%s is not a directory", path)
	}
	// The host's own "/" would be mounted on and remounted read-only
	// under the container's eyes; runc refuses a symlinked root.path
	// ("not an absolute path, or a symlink") and fails later on "/".
	if resolved, err := filepath.EvalSymlinks(path); err == nil && resolved == "/" {
		if filepath.Clean(path) == "/" {
			return NewConfigError("root.path", "%s is the host's root directory; a container needs a root filesystem of its own", path)
		}
		return NewConfigError("root.path", "%s resolves to / (the host's root directory); a container needs a root filesystem of its own", path)
	}
	b.Rootfs = path
	return checkKernelFSTargets(path, s.Mounts)
}

// checkKernelFSTargets refuses a proc or sysfs mount whose destination
// in the root filesystem passes through a symlink, as runc does: the
// masked and read-only paths are applied later by path, and they are
// only as good as that symlink staying put.
func checkKernelFSTargets(rootfs string, mounts []specs.Mount) error {
	for i, m := range mounts {
		if m.Type != "proc" && m.Type != "sysfs" {
			continue
		}
		at := rootfs
		for _, part := range strings.Split(strings.Trim(filepath.Clean("/"+m.Destination), "/"), "/") {
			at = filepath.Join(at, part)
			fi, err := os.Lstat(at)
			if err != nil {
				break // made by the mount later, as a directory
			}
			if fi.Mode()&os.ModeSymlink != 0 {
				return NewConfigError(fmt.Sprintf("mounts[%d].destination", i), "%s is a symlink in the root filesystem: %s must be mounted on an ordinary directory",
					strings.TrimPrefix(at, rootfs), m.Type)
			}
		}
	}
	return nil
}

func checkProcess(s *specs.Spec) error {
	p := s.Process
	if p == nil {
		return NewConfigError("process", "must be set to create a container")
	}
	if len(p.Args) == 0 || p.Args[0] == "" {
		return NewConfigError("process.args", "must not be empty")
	}
	if p.Cwd == "" {
		return NewConfigError("process.cwd", "must be set")
	}
	if !filepath.IsAbs(p.Cwd) {
		return NewConfigError("process.cwd", "%q must be an absolute path", p.Cwd)
	}
	for i, kv := range p.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return NewConfigError(fmt.Sprintf("process.env[%d]", i), "%q is not KEY=VALUE", kv)
		}
	}
	if err := CheckRlimits(p.Rlimits); err != nil {
		return err
	}
	if field, problem, ok := CheckExecveSize("process", p.Args, p.Env, StackRlimit(p.Rlimits)); !ok {
		return NewConfigError(field, "%s", problem)
	}
	if _, err := capabilities.Parse(p.Capabilities); err != nil {
		return &ConfigError{Problem: strings.ReplaceAll(err.Error(), "\n", "; ")}
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return NewConfigError("process.oomScoreAdj", "%d is outside -1000..1000", *p.OOMScoreAdj)
	}
	if p.ApparmorProfile != "" {
		return NewConfigError("process.apparmorProfile", "AppArmor is not supported by cmrun")
	}
	if p.SelinuxLabel != "" {
		return NewConfigError("process.selinuxLabel", "SELinux is not supported by cmrun")
	}
	if p.Scheduler != nil {
		return NewConfigError("process.scheduler", "not supported by cmrun")
	}
	if p.ExecCPUAffinity != nil {
		return NewConfigError("process.execCPUAffinity", "not supported by cmrun")
	}
	if p.IOPriority != nil {
		if _, ok := IOPriorityClass(p.IOPriority.Class); !ok {
			return NewConfigError("process.ioPriority.class", "unknown class %q", p.IOPriority.Class)
		}
		if p.IOPriority.Priority < 0 || p.IOPriority.Priority > 7 {
			return NewConfigError("process.ioPriority.priority", "%d is outside 0..7", p.IOPriority.Priority)
		}
	}
	return nil
}

// CheckRlimits checks process.rlimits: known names, each once, soft not above hard.
func CheckRlimits(rl []specs.POSIXRlimit) error {
	seen := map[string]bool{}
	for i, r := range rl {
		field := fmt.Sprintf("process.rlimits[%d]", i)
		if _, ok := Rlimit(r.Type); !ok {
			return NewConfigError(field+".type", "unknown rlimit %q", r.Type)
		}
		if seen[r.Type] {
			return NewConfigError(field+".type", "%s is set twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return NewConfigError(field, "soft limit %d is above hard limit %d", r.Soft, r.Hard)
		}
	}
	return nil
}

func checkHostname(s *specs.Spec) error {
	for _, f := range []struct{ field, value string }{{"hostname", s.Hostname}, {"domainname", s.Domainname}} {
		if f.value == "" {
			continue
		}
		if !namespace.Has(s, specs.UTSNamespace) {
			return NewConfigError(f.field, "needs a UTS namespace, and linux.namespaces has none")
		}
		if len(f.value) > 64 {
			return NewConfigError(f.field, "%q is longer than 64 bytes", f.value)
		}
	}
	return nil
}

func checkMounts(s *specs.Spec) error {
	for i, m := range s.Mounts {
		field := fmt.Sprintf("mounts[%d]", i)
		if m.Destination == "" {
			return NewConfigError(field+".destination", "must be set")
		}
		if _, err := ParseMountOptions(m.Options); err != nil {
			return NewConfigError(field+".options", "%v", err)
		}
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			return NewConfigError(field+".uidMappings", "idmapped mounts are not supported by cmrun")
		}
	}
	return nil
}

func checkHooks(s *specs.Spec) error {
	if s.Hooks == nil {
		return nil
	}
	lists := map[string][]specs.Hook{
		"prestart": s.Hooks.Prestart, "createRuntime": s.Hooks.CreateRuntime,
		"createContainer": s.Hooks.CreateContainer, "startContainer": s.Hooks.StartContainer,
		"poststart": s.Hooks.Poststart, "poststop": s.Hooks.Poststop,
	}
	for name, hooks := range lists {
		for i, h := range hooks {
			field := fmt.Sprintf("hooks.%s[%d]", name, i)
			if !filepath.IsAbs(h.Path) {
				return NewConfigError(field+".path", "%q must be an absolute path", h.Path)
			}
			if h.Timeout != nil && *h.Timeout <= 0 {
				return NewConfigError(field+".timeout", "must be greater than zero")
			}
			// Hooks are started by cmrun or the init, with cmrun's stack rlimit.
			if f, problem, ok := CheckExecveSize(field, h.Args, h.Env, StackRlimit(nil)); !ok {
				return NewConfigError(f, "%s", problem)
			}
		}
	}
	return nil
}
