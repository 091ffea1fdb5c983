package tests

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/capabilities"
	"cm/tests/fixture"
)

// allCaps lists every capability this host's root may hold (no CAP_SYS_RESOURCE here).
var allCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_MKNOD",
	"CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_NET_ADMIN"}

func without(list []string, drop ...string) []string {
	var out []string
	for _, c := range list {
		if !strings.Contains(strings.Join(drop, ","), c) {
			out = append(out, c)
		}
	}
	return out
}

func capMask(t *testing.T, names []string) string {
	m, err := capabilities.Mask(names)
	require.NoError(t, err)
	return fmt.Sprintf("%016x", m)
}

// TestCapabilitiesInside checks /proc/self/status shows exactly the
// configured sets, and that a dropped capability really is gone.
func TestCapabilitiesInside(t *testing.T) {
	e := newEnv(t)
	bnd := []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"}
	eff := []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"}
	inh := []string{"CAP_NET_BIND_SERVICE"}
	bundle := e.bundle(func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: bnd, Effective: eff, Permitted: eff, Inheritable: inh, Ambient: inh}
	}, "grep", "^Cap", "/proc/self/status")
	r := e.run(bundle)
	require.Equal(t, 0, r.code, r.stderr)
	// A non-root program keeps its ambient set; execve makes it both
	// permitted and effective (capabilities(7)).
	want := fmt.Sprintf("CapInh:\t%s\nCapPrm:\t%s\nCapEff:\t%s\nCapBnd:\t%s\nCapAmb:\t%s",
		capMask(t, inh), capMask(t, inh), capMask(t, inh), capMask(t, bnd), capMask(t, inh))
	require.Equal(t, want, strings.TrimSpace(r.stdout))

	// Root with the default config: exactly runc's three.
	r = e.run(e.bundle(nil, "grep", "^Cap", "/proc/self/status"))
	require.Equal(t, 0, r.code, r.stderr)
	three := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	require.Contains(t, r.stdout, "CapEff:\t"+capMask(t, three))
	require.Contains(t, r.stdout, "CapBnd:\t"+capMask(t, three))
}

// TestDroppedCapabilityDenies: the same operation works with the
// capability and fails with EPERM without it.
func TestDroppedCapabilityDenies(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, drop, script, allowed, denied string
	}{
		{"CAP_SYS_ADMIN mounts", "CAP_SYS_ADMIN", "mount -t tmpfs none /mnt 2>&1 && echo mounted", "mounted", "mount: permission denied"},
		{"CAP_NET_RAW raw sockets", "CAP_NET_RAW", "ping -c 1 -W 1 127.0.0.1 2>&1; true", "bytes from", "ermission denied"},
		{"CAP_CHOWN chown", "CAP_CHOWN", "touch /tmp/f && chown 5 /tmp/f 2>&1 && echo chowned", "chowned", "Operation not permitted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			for _, keep := range []bool{true, false} {
				caps := allCaps
				if !keep {
					caps = without(allCaps, tc.drop)
				}
				bundle := e.bundle(func(s *specs.Spec) {
					s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
					s.Linux.Seccomp = nil // only capabilities decide here
					s.Root.Readonly = false
					s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "tmpfs", Source: "tmpfs"})
				}, "sh", "-c", "ip link set lo up 2>/dev/null; "+tc.script)
				r := e.run(bundle)
				want := tc.allowed
				if !keep {
					want = tc.denied
				}
				require.Contains(t, r.stdout, want, "keep=%v stderr=%s", keep, r.stderr)
			}
		})
	}
}

// TestSeccomp: a rule's errnoRet comes back from the syscall, and the
// default profile blocks unshare and mount while busybox keeps working.
func TestSeccomp(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Root.Readonly = false
		ret := uint(123) // ENOMEDIUM, "No medium found"
		s.Linux.Seccomp.Syscalls = append([]specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: &ret}}, s.Linux.Seccomp.Syscalls...)
	}, "sh", "-c", "mkdir /tmp/d 2>&1; echo x")
	r := e.run(bundle)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "mkdir: can't create directory '/tmp/d': No medium found\nx", strings.TrimSpace(r.stdout))

	// Full capabilities, so only the default profile stands in the way.
	bundle = e.bundle(func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: allCaps, Effective: allCaps, Permitted: allCaps}
	}, "sh", "-c", "unshare -m true 2>&1; mount -t tmpfs none /tmp 2>&1; ls /bin/busybox; grep Seccomp: /proc/self/status")
	r = e.run(bundle)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "unshare: unshare(0x20000): Operation not permitted\nmount: permission denied (are you root?)\n/bin/busybox\nSeccomp:\t2",
		strings.TrimSpace(r.stdout))
}

// TestSeccompWithoutRseq: a profile that refuses rseq(2), loaded before
// the capabilities drop (no noNewPrivileges), must not kill the init. glibc
// aborts any thread whose rseq registration fails, and the init's Go
// runtime starts threads at will, so cmrun turns glibc's rseq off in the
// init only: the environ of the waiting init shows it, the program's does
// not. The abort is a race, so several containers wait a while in created.
func TestSeccompWithoutRseq(t *testing.T) {
	e := newEnv(t)
	eperm := uint(1)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Process.NoNewPrivileges = false
		s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"rseq"}, Action: specs.ActErrno, ErrnoRet: &eperm}}}
	}, "sh", "-c", "cat /proc/self/environ | tr '\\0' '\\n' | grep -c GLIBC_TUNABLES; echo done")
	ids, outs := make([]string, 6), make([]*os.File, 6)
	for i := range ids {
		ids[i], outs[i] = e.newID(), e.tempFile()
		id := ids[i]
		t.Cleanup(func() { e.forceDelete(id) })
		r := e.cmrunWithStdout(outs[i], "create", "--bundle", bundle, id)
		require.Equal(t, 0, r.code, r.stderr)
		environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", e.state(id).Pid))
		require.NoError(t, err)
		require.Contains(t, string(environ), "GLIBC_TUNABLES=glibc.pthread.rseq=0")
	}
	time.Sleep(300 * time.Millisecond) // the inits block on the exec fifo meanwhile
	for i, id := range ids {
		r := e.cmrun("start", id)
		require.Equal(t, 0, r.code, r.stderr)
		require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, "0\ndone", strings.TrimSpace(readBack(outs[i])), "the program's environment is its own")
	}
}

// TestNoNewPrivileges shows the flag as the config says.
func TestNoNewPrivileges(t *testing.T) {
	e := newEnv(t)
	for _, nnp := range []bool{true, false} {
		r := e.run(e.bundle(func(s *specs.Spec) { s.Process.NoNewPrivileges = nnp }, "grep", "NoNewPrivs", "/proc/self/status"))
		require.Equal(t, 0, r.code, r.stderr)
		want := "0"
		if nnp {
			want = "1"
		}
		require.Equal(t, "NoNewPrivs:\t"+want, strings.TrimSpace(r.stdout))
	}
}

// TestUserNamespaceHostView: root inside, the mapped uid outside.
func TestUserNamespaceHostView(t *testing.T) {
	e := newEnv(t)
	userns := func(s *specs.Spec) { fixture.WithUserNamespace(s, 100000, 100000) }
	bundle := e.bundle(userns, "sleep", "300")
	// The image belongs to the container's root, as a tool preparing it for user namespaces would arrange.
	require.NoError(t, filepath.Walk(filepath.Join(bundle, "rootfs"), func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = os.Lchown(p, 100000, 100000)
		}
		return err
	}))
	id, _ := e.detached(bundle)
	pid := e.state(id).Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	require.Contains(t, string(status), "Uid:\t100000\t100000\t100000\t100000")
	r := e.cmrun("ps", id)
	require.Equal(t, 0, r.code)
	require.Equal(t, 0, e.cmrun("delete", "--force", id).code)

	r = e.run(e.bundle(userns, "sh", "-c", "id; stat -c %u /bin/busybox"))
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "uid=0(root) gid=0(root)\n65534", strings.TrimSpace(r.stdout),
		"host-owned files show up as the overflow uid")
}

// TestRuntimeBinaryProtected tries CVE-2019-5736. An attacker container
// with every capability and no seccomp joins the PID namespace of a
// victim container while the victim's init is still the cmrun binary,
// opens that binary through /proc/1/exe, and once the victim's init has
// exec'd its program (so the binary is no longer running, and no longer
// "busy") writes through the descriptor. The write must fail and the
// binary must not change. The victim uses its own copy of cmrun, so no
// other cmrun process keeps that file busy.
func TestRuntimeBinaryProtected(t *testing.T) {
	e := newEnv(t)
	victimCmrun := filepath.Join(e.dir, "cmrun-victim")
	data, err := os.ReadFile(filepath.Join(binDir, "cmrun"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(victimCmrun, data, 0o755))
	before := fileHash(t, victimCmrun)

	victim := e.newID()
	t.Cleanup(func() { exec.Command(victimCmrun, "--root", e.root, "delete", "--force", victim).Run() })
	victimRun := func(args ...string) {
		cmd := exec.Command(victimCmrun, append([]string{"--root", e.root}, args...)...)
		f := e.tempFile() // not a pipe: the container would hold it open
		defer f.Close()
		cmd.Stdout, cmd.Stderr = f, f
		require.NoError(t, cmd.Run(), readBack(f))
	}
	victimRun("create", "--bundle", e.bundle(nil, "sleep", "300"), victim)
	pid := e.state(victim).Pid

	attacker := e.bundle(func(s *specs.Spec) {
		s.Process.Capabilities = &specs.LinuxCapabilities{Bounding: allCaps, Effective: allCaps, Permitted: allCaps}
		s.Linux.Seccomp = nil
		s.Process.NoNewPrivileges = false
		s.Root.Readonly = false
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", pid)
			}
		}
	}, "sh", "-c", `exec 3</proc/1/exe; echo opened; while [ ! -e /tmp/go ]; do sleep 0.02; done; echo pwned >> /proc/self/fd/3; echo rc=$?`)
	_, log := e.detached(attacker)
	require.Eventually(t, func() bool { b, _ := os.ReadFile(log); return strings.Contains(string(b), "opened") }, waitLong, tick)

	victimRun("start", victim)
	require.NoError(t, os.WriteFile(filepath.Join(attacker, "rootfs/tmp/go"), nil, 0o644))
	require.Eventually(t, func() bool { b, _ := os.ReadFile(log); return strings.Contains(string(b), "rc=") }, waitLong, tick)
	result, _ := os.ReadFile(log)
	require.Contains(t, string(result), "Read-only file system")
	require.Contains(t, string(result), "rc=1")
	require.Equal(t, before, fileHash(t, victimCmrun), "the runtime binary was changed from inside a container")
}

// TestTimeNamespace: boottime moves by the configured offset, so the
// container's uptime is at least a year.
func TestTimeNamespace(t *testing.T) {
	e := newEnv(t)
	r := e.run(e.bundle(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 365 * 86400}, "monotonic": {Secs: 7200}}
	}, "sh", "-c", "cut -d. -f1 /proc/uptime"))
	require.Equal(t, 0, r.code, r.stderr)
	var uptime int
	_, err := fmt.Sscan(r.stdout, &uptime)
	require.NoError(t, err, r.stdout)
	require.GreaterOrEqual(t, uptime, 365*86400)
}

// TestTimeNamespaceRefusedOffset: a clock offset the kernel refuses fails
// in stage 0 while cmrun may still be making the cgroup (without a user
// namespace the namespaces come first); cmrun reports the kernel's reason
// and leaves nothing behind.
func TestTimeNamespaceRefusedOffset(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: -100_000_000_000}}
	}, "true")
	id := e.newID()
	r := e.cmrun("run", "--bundle", bundle, id)
	require.Equal(t, 1, r.code, r.stderr)
	require.Contains(t, r.stderr, "write /proc/self/timens_offsets: ")
	e.requireNoLeftovers(id, bundle)
}

// TestPrivilegesBadInput: wrong capability names, seccomp actions and id
// mappings fail create with the field named, leaving nothing behind.
func TestPrivilegesBadInput(t *testing.T) {
	e := newEnv(t)
	userns := func(s *specs.Spec, uid, gid []specs.LinuxIDMapping) {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings, s.Linux.GIDMappings = uid, gid
	}
	good := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	e.requireCreateFails([]badConfig{
		{"unknown capability", func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FLY")
		},
			`process.capabilities.bounding: unknown capability "CAP_FLY"`},
		{"unknown seccomp action", func(s *specs.Spec) { s.Linux.Seccomp.DefaultAction = "SCMP_ACT_MAYBE" },
			`linux.seccomp.defaultAction: unknown action "SCMP_ACT_MAYBE"`},
		{"unknown seccomp architecture", func(s *specs.Spec) { s.Linux.Seccomp.Architectures = []specs.Arch{"SCMP_ARCH_Z80"} },
			`linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_Z80"`},
		{"empty id mapping", func(s *specs.Spec) { userns(s, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1, Size: 0}}, good) },
			"linux.uidMappings[0].size: must be greater than zero"},
		{"overlapping id mappings", func(s *specs.Spec) {
			userns(s, good, []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 10}, {ContainerID: 100, HostID: 100005, Size: 10}})
		}, "linux.gidMappings[1]: host ids overlap linux.gidMappings[0]"},
		{"missing gid mappings", func(s *specs.Spec) { userns(s, good, nil) },
			"linux.gidMappings: must not be empty when a new user namespace is created"},
	})
}

func fileHash(t *testing.T, path string) [32]byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(data)
}
