package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/tests/fixture"
)

// TestRunInside runs one container per case and checks what the program
// sees from inside, and its exit code.
func TestRunInside(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		edit func(*specs.Spec)
		args []string
		want string // stdout, trimmed
		code int
	}{
		{name: "pid 1", args: []string{"sh", "-c", "echo $$"}, want: "1"},
		{name: "hostname", edit: func(s *specs.Spec) { s.Hostname = "box42" }, args: []string{"hostname"}, want: "box42"},
		{name: "own root: host files invisible", args: []string{"sh", "-c", "ls /; test -e /etc/debian_version && echo HOST; true"},
			want: "bin\ndev\netc\nproc\nroot\nsbin\nsys\ntmp\nusr"},
		// Only the container's few processes, with small pids; none of the host's.
		{name: "own /proc", args: []string{"sh", "-c", "for p in /proc/[0-9]*; do [ ${p#/proc/} -lt 10 ] || echo host pid $p; done; cat /proc/1/cmdline | tr '\\0' ' '"},
			want: "sh -c for p in /proc/[0-9]*; do [ ${p#/proc/} -lt 10 ] || echo host pid $p; done; cat /proc/1/cmdline | tr '\\0' ' '"},
		{name: "exit code", args: []string{"sh", "-c", "exit 7"}, code: 7},
		{name: "death by signal", args: []string{"sh", "-c", "sh -c 'kill -9 $$'; exit $?"}, code: 137},
		{name: "env and cwd", edit: func(s *specs.Spec) {
			s.Process.Env = append(s.Process.Env, "FOO=bar baz")
			s.Process.Cwd = "/tmp"
		}, args: []string{"sh", "-c", "echo $FOO; pwd"}, want: "bar baz\n/tmp"},
		{name: "user and groups", edit: func(s *specs.Spec) {
			s.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{5, 1002}}
		}, args: []string{"sh", "-c", "id -u; id -g; id -G"}, want: "1000\n1001\n1001 5 1002"},
		{name: "masked file and directory", edit: func(s *specs.Spec) {
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, "/etc/passwd", "/root")
		}, args: []string{"sh", "-c", "cat /etc/passwd; ls /root; touch /root/x 2>/dev/null || echo denied"}, want: "denied"},
		{name: "read-only root", args: []string{"sh", "-c", "touch /x 2>&1; echo $?"}, want: "touch: /x: Read-only file system\n1"},
		{name: "writable root", edit: func(s *specs.Spec) { s.Root.Readonly = false },
			args: []string{"sh", "-c", "touch /x && echo ok"}, want: "ok"},
		{name: "read-only path", args: []string{"sh", "-c", "echo 1 > /proc/sys/kernel/printk 2>/dev/null || echo refused"}, want: "refused"},
		{name: "rlimits", args: []string{"sh", "-c", "ulimit -n; ulimit -Hn"}, want: "1024\n1024"},
		{name: "rlimits soft below hard", edit: func(s *specs.Spec) {
			s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 500, Hard: 1000}}
		}, args: []string{"sh", "-c", "ulimit -n; ulimit -Hn"}, want: "500\n1000"},
		{name: "sysctl in own net namespace", edit: func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, args: []string{"cat", "/proc/sys/net/ipv4/ip_forward"}, want: "1"},
		{name: "default devices", args: []string{"sh", "-c",
			"echo x > /dev/null && head -c 3 /dev/zero | wc -c && ls -l /dev/fd | cut -d'>' -f2 && test -c /dev/urandom && echo ok"},
			want: "3\n /proc/self/fd\nok"},
		{name: "oom score", edit: func(s *specs.Spec) { v := 500; s.Process.OOMScoreAdj = &v },
			args: []string{"cat", "/proc/self/oom_score_adj"}, want: "500"},
		{name: "user namespace", edit: func(s *specs.Spec) { fixture.WithUserNamespace(s, 100000, 200000) }, args: []string{"sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '; echo x > /dev/null && echo null-ok"},
			want: "0\n 0 100000 65536\n 0 200000 65536\nnull-ok"},
		{name: "linux.devices", edit: func(s *specs.Spec) {
			mode, uid, gid := os.FileMode(0o600), uint32(0), uint32(2)
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/mydev", Type: "c", Major: 1, Minor: 5, FileMode: &mode, UID: &uid, GID: &gid}}
		}, args: []string{"sh", "-c", "ls -ln /dev/mydev | tr -s ' ' | cut -d' ' -f1,3-6; head -c 4 /dev/mydev | wc -c"},
			want: "crw------- 0 2 1, 5\n4"},
		{name: "linux.devices fifo", edit: func(s *specs.Spec) {
			mode := os.FileMode(0o600)
			s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/myfifo", Type: "p", FileMode: &mode}}
		}, args: []string{"sh", "-c", "test -p /dev/myfifo && echo fifo"}, want: "fifo"},
		{name: "rootfs propagation private", edit: func(s *specs.Spec) { s.Linux.RootfsPropagation = "rprivate" },
			args: []string{"sh", "-c", "grep ' / / ' /proc/self/mountinfo | grep -c shared: ; true"}, want: "0"},
		{name: "no-pivot", args: []string{"sh", "-c", "ls /bin/busybox"}, want: "/bin/busybox"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			bundle := e.bundle(tc.edit, tc.args...)
			extra := []string{}
			if tc.name == "no-pivot" {
				extra = append(extra, "--no-pivot")
			}
			r := e.run(bundle, extra...)
			require.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			require.Equal(t, tc.want, strings.TrimSpace(r.stdout), "stderr: %s", r.stderr)
		})
	}
}

// TestJoinNamespaceByPath starts one container and runs a second one in
// the first one's UTS and network namespaces, given by path.
func TestJoinNamespaceByPath(t *testing.T) {
	e := newEnv(t)
	first := e.bundle(func(s *specs.Spec) { s.Hostname = "shared-name" }, "sleep", "60")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	r := e.cmrun("create", "--bundle", first, id)
	require.Equal(t, 0, r.code, r.stderr)
	pid := e.state(id).Pid
	require.Positive(t, pid)

	hostNet, err := os.Readlink(filepath.Join("/proc", itoa(pid), "ns/net"))
	require.NoError(t, err)
	second := e.bundle(func(s *specs.Spec) {
		s.Hostname = "" // setting one would rename the shared namespace
		for i, ns := range s.Linux.Namespaces {
			switch ns.Type {
			case specs.UTSNamespace:
				s.Linux.Namespaces[i].Path = "/proc/" + itoa(pid) + "/ns/uts"
			case specs.NetworkNamespace:
				s.Linux.Namespaces[i].Path = "/proc/" + itoa(pid) + "/ns/net"
			}
		}
	}, "sh", "-c", "hostname; readlink /proc/self/ns/net")
	r = e.run(second)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "shared-name\n"+hostNet, strings.TrimSpace(r.stdout))
}

// TestJoinPIDNamespace runs a second container inside the first one's
// PID namespace: it is not PID 1 there, and it sees the first one's init.
func TestJoinPIDNamespace(t *testing.T) {
	e := newEnv(t)
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	r := e.cmrun("create", "--bundle", e.bundle(nil, "sleep", "60"), id)
	require.Equal(t, 0, r.code, r.stderr)
	pid := e.state(id).Pid
	second := e.bundle(func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				s.Linux.Namespaces[i].Path = "/proc/" + itoa(pid) + "/ns/pid"
			}
		}
	}, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; test $$ -gt 1 && echo not-pid-1")
	r = e.run(second)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "cmrun init \nnot-pid-1", strings.TrimSpace(r.stdout))
}

// TestJoinMountNamespace: a mount namespace given by path still gets the
// container's root filesystem, built inside that namespace (as runc does).
func TestJoinMountNamespace(t *testing.T) {
	e := newEnv(t)
	holder := exec.Command("unshare", "--mount", "--propagation", "private", "sleep", "60")
	require.NoError(t, holder.Start())
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	nsPath := "/proc/" + itoa(holder.Process.Pid) + "/ns/mnt"
	var want string
	require.Eventually(t, func() bool { // unshare execs sleep once the namespace exists
		host, _ := os.Readlink("/proc/self/ns/mnt")
		want, _ = os.Readlink(nsPath)
		return want != "" && want != host
	}, 5*time.Second, 10*time.Millisecond)

	bundle := e.bundle(func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.MountNamespace {
				s.Linux.Namespaces[i].Path = nsPath
			}
		}
	}, "sh", "-c", "ls /bin/busybox; readlink /proc/self/ns/mnt")
	r := e.run(bundle)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "/bin/busybox\n"+want, strings.TrimSpace(r.stdout))
}

// TestNoMountNamespace: without a mount namespace the container still
// gets its root filesystem (chroot, mounts in the host's namespace), and
// delete takes those mounts away, also after a create that failed midway.
func TestNoMountNamespace(t *testing.T) {
	e := newEnv(t)
	noMountNS := func(s *specs.Spec) { fixture.WithoutNamespace(s, specs.MountNamespace) }
	bundle := e.bundle(noMountNS, "sh", "-c", "ls /bin/busybox; touch /x 2>&1; grep -c ' /dev/pts ' /proc/self/mountinfo")
	id := e.newID()
	r := e.cmrunIn(bundle, nil, "run", id)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "/bin/busybox\ntouch: /x: Read-only file system\n1", strings.TrimSpace(r.stdout))
	e.requireNoLeftovers(id, bundle)

	// The mounts exist by the time the program turns out to be missing.
	bundle = e.bundle(noMountNS, "/no/such/program")
	id = e.newID()
	r = e.cmrun("create", "--bundle", bundle, id)
	require.NotEqual(t, 0, r.code)
	e.requireNoLeftovers(id, bundle)
}

// TestLifecycle walks one container through every OCI state.
func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(nil, "sleep", "600")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })

	r := e.cmrun("create", "--bundle", bundle, "--pid-file", filepath.Join(e.dir, "pid"), id)
	require.Equal(t, 0, r.code, r.stderr)
	st := e.state(id)
	require.Equal(t, specs.StateCreated, st.Status)
	require.Positive(t, st.Pid)
	comm, err := os.ReadFile("/proc/" + itoa(st.Pid) + "/comm")
	require.NoError(t, err)
	require.Equal(t, "cmrun-init\n", string(comm), "what ps calls the waiting init")
	require.Equal(t, bundle, st.Bundle)
	require.Equal(t, id, st.ID)
	pidFile, err := os.ReadFile(filepath.Join(e.dir, "pid"))
	require.NoError(t, err)
	require.Equal(t, itoa(st.Pid), string(pidFile))
	// The init waits on the fifo: the user's program has not run yet.
	cmdline, err := os.ReadFile(filepath.Join("/proc", itoa(st.Pid), "cmdline"))
	require.NoError(t, err)
	require.Equal(t, "cmrun\x00init\x00", string(cmdline))
	// Already in its cgroup, before any of the user's program runs.
	require.Equal(t, []string{itoa(st.Pid)}, fixture.ProcessesInCgroup(id))

	list := e.cmrun("list", "--format", "json")
	require.Equal(t, 0, list.code, list.stderr)
	require.Contains(t, list.stdout, `"status":"created"`) // one line, as runc prints it

	r = e.cmrun("start", id)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, specs.StateRunning, e.state(id).Status)
	cmdline, err = os.ReadFile(filepath.Join("/proc", itoa(st.Pid), "cmdline"))
	require.NoError(t, err)
	require.Equal(t, "sleep\x00600\x00", string(cmdline))

	r = e.cmrun("kill", id, "KILL")
	require.Equal(t, 0, r.code, r.stderr)
	require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, waitLong, tick)
	st = e.state(id)
	require.Zero(t, st.Pid, "a stopped container has no pid")

	r = e.cmrun("delete", id)
	require.Equal(t, 0, r.code, r.stderr)
	requireOneLineError(t, e.cmrun("state", id), "does not exist")
	e.requireNoLeftovers(id, bundle)
}

// TestKillSignals checks signal names and numbers reach the init.
func TestKillSignals(t *testing.T) {
	e := newEnv(t)
	for _, sig := range []string{"TERM", "SIGTERM", "15", "SIGUSR1"} {
		t.Run(sig, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			bundle := e.bundle(nil, "sh", "-c", "trap 'echo got; exit 3' TERM USR1; echo ready; while true; do sleep 0.1; done")
			id := e.newID()
			t.Cleanup(func() { e.forceDelete(id) })
			out := filepath.Join(e.dir, id+".out")
			f, err := os.Create(out)
			require.NoError(t, err)
			defer f.Close()
			r := e.cmrunWithStdout(f, "run", "--detach", "--bundle", bundle, id)
			require.Equal(t, 0, r.code, r.stderr)
			require.Eventually(t, func() bool { b, _ := os.ReadFile(out); return strings.Contains(string(b), "ready") }, waitLong, tick)
			r = e.cmrun("kill", id, sig)
			require.Equal(t, 0, r.code, r.stderr)
			require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, waitLong, tick)
			b, _ := os.ReadFile(out)
			require.Equal(t, "ready\ngot\n", string(b))
			require.Equal(t, 0, e.cmrun("delete", id).code)
			e.requireNoLeftovers(id, bundle)
		})
	}
}

// TestNamespacesWhileCgroupIsMade: without a user namespace, stage 0
// creates the namespaces while cmrun still makes the cgroup, and the trace
// says so; with one it waits for the cgroup first (the user namespace
// must come before the others and needs its id maps).
func TestNamespacesWhileCgroupIsMade(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name   string
		edit   func(*specs.Spec)
		during bool
	}{
		{"no user namespace", nil, true},
		{"user namespace", func(s *specs.Spec) { fixture.WithUserNamespace(s, 100000, 100000) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(e.bundle(tc.edit, "readlink", "/proc/self/ns/net"), "--trace")
			require.Equal(t, 0, r.code, r.stderr)
			require.Equal(t, tc.during, strings.Contains(r.stderr, "the new ones while the cgroup was made"), r.stderr)
			host, err := os.Readlink("/proc/self/ns/net")
			require.NoError(t, err)
			require.NotContains(t, r.stdout, host, "the container has the host's network namespace")
		})
	}
}

// TestTrace checks --trace explains the setup steps.
func TestTrace(t *testing.T) {
	e := newEnv(t)
	r := e.run(e.bundle(nil, "true"), "--trace")
	require.Equal(t, 0, r.code, r.stderr)
	for _, step := range []string{"process start: fork, exec", "parse the command line", "nsexec: join cgroup (", "join/create namespaces",
		"init  Go runtime start", "Go runtime up", "mount proc (proc) on /proc", "pivot_root", "wait for the container to exit", "delete (cgroup, state)", "trace total"} {
		require.Contains(t, r.stderr, step)
	}
}
