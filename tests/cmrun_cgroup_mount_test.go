package tests

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// TestCgroupMountPath: with a "cgroup" mount, the container sees its own
// cgroup at /sys/fs/cgroup/<hierarchy> for a relative cgroupsPath (what
// containerd passes: "test.slice:cri-containerd:<id>", below the
// runtime's own cgroup, which differs between hierarchies) as well as an
// absolute one, with and without a cgroup namespace. Each hierarchy's
// cgroup.procs inside lists the container's PID 1.
func TestCgroupMountPath(t *testing.T) {
	e := newEnv(t)
	want := hostCgroupHierarchies(t)
	noCgroupNS := func(s *specs.Spec) {
		s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(n specs.LinuxNamespace) bool {
			return n.Type == specs.CgroupNamespace
		})
	}
	tag := strconv.Itoa(os.Getpid())
	tests := []struct {
		name, path string
		edit       func(*specs.Spec)
	}{
		{"relative, no cgroup namespace", "test.slice:cri-containerd:rel-" + tag, noCgroupNS},
		{"relative, cgroup namespace", "rel-ns-" + tag, nil},
		{"absolute, no cgroup namespace", "/cmt-abs-" + tag, noCgroupNS},
		{"absolute, cgroup namespace", "/cmt-abs-ns-" + tag, nil},
	}
	script := `for f in $(find /sys/fs/cgroup -maxdepth 2 -name cgroup.procs | sort); do
		echo "$f" $(grep -x 1 "$f"); done`
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			bundle := e.bundle(func(s *specs.Spec) {
				s.Linux.CgroupsPath = tc.path
				if tc.edit != nil {
					tc.edit(s)
				}
			}, "sh", "-c", script)
			r := e.run(bundle)
			require.Equal(t, 0, r.code, r.stderr)
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				f, pid, _ := strings.Cut(line, " ")
				require.Equal(t, "1", pid, "%s does not list the container's init: wrong cgroup mounted", f)
				got = append(got, strings.TrimSuffix(strings.TrimPrefix(f, "/sys/fs/cgroup"), "/cgroup.procs"))
			}
			slices.Sort(got)
			require.Equal(t, want, got, "hierarchies seen inside the container")
		})
	}
}

// hostCgroupHierarchies lists the cgroup hierarchies mounted under
// /sys/fs/cgroup as the container should see them: "/memory", ... or ""
// for a cgroup2 mount right at /sys/fs/cgroup.
func hostCgroupHierarchies(t *testing.T) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		fields := strings.Fields(pre)
		if !ok || len(fields) < 5 || !strings.HasPrefix(post, "cgroup") {
			continue
		}
		if p := fields[4]; p == "/sys/fs/cgroup" || strings.HasPrefix(p, "/sys/fs/cgroup/") {
			out = append(out, strings.TrimPrefix(p, "/sys/fs/cgroup"))
		}
	}
	slices.Sort(out)
	require.NotEmpty(t, out, "no cgroup hierarchy mounted")
	return out
}

// TestSystemdCgroupRefused: with --systemd-cgroup (containerd's
// SystemdCgroup = true) create and run fail with one line naming the
// driver, and leave nothing behind; other commands still work.
func TestSystemdCgroupRefused(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) { s.Linux.CgroupsPath = "system.slice:cri-containerd:sd" }, "true")
	for _, cmd := range []string{"create", "run"} {
		id := e.newID()
		r := e.cmrun("--systemd-cgroup", cmd, "--bundle", bundle, id)
		requireOneLineError(t, r, "--systemd-cgroup: the systemd cgroup driver is not supported")
		e.requireNoLeftovers(id, bundle)
	}
	r := e.cmrun("--systemd-cgroup", "list")
	require.Equal(t, 0, r.code, r.stderr)
}
