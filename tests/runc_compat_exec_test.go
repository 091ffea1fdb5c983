package tests

// runc compatibility of cmrun exec: its exit codes, --ignore-paused and
// --cgroup (see runc_compat_test.go).

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// TestRuncCompatExec: exec failures exit 255 as runc's do; a process
// that ran exits with its own code; --ignore-paused and --cgroup.
func TestRuncCompatExec(t *testing.T) {
	p := newPair(t)
	id := p.start(p.bundle(nil, "sleep", "300"))
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"missing program", []string{"exec", id, "/nonexist"}, 255},
		{"missing container", []string{"exec", "nosuch", "true"}, 255},
		{"missing cwd", []string{"exec", "--cwd", "/nonexist", id, "true"}, 255},
		{"exit code", []string{"exec", "-u", "1000", id, "sh", "-c", "exit 7"}, 7},
		{"ignore-paused when running", []string{"exec", "--ignore-paused", id, "true"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, c := p.both(id, tc.args...)
			sameCode(t, r, c, tc.name)
			require.Equal(t, tc.code, c.code)
		})
	}
	t.Run("paused", func(t *testing.T) {
		r, c := p.both(id, "pause", id)
		sameCode(t, r, c, "pause")
		defer p.both(id, "resume", id)
		r, c = p.both(id, "exec", id, "true")
		sameCode(t, r, c, "exec in a paused container")
		require.NotEqual(t, 0, c.code)
	})
	t.Run("cgroup", func(t *testing.T) {
		rpid, cpid := p.pids(id)
		made := append(makeSubCgroups(t, rpid, "sub"), makeSubCgroups(t, cpid, "sub")...)
		defer func() {
			for i := len(made) - 1; i >= 0; i-- {
				os.Remove(made[i])
			}
		}()
		r, c := p.both(id, "exec", "--cgroup", "sub", id, "cat", "/proc/self/cgroup")
		sameCode(t, r, c, "exec --cgroup sub")
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, 0, c.code)
		for _, line := range strings.Split(strings.TrimSpace(c.stdout), "\n") {
			require.True(t, strings.HasSuffix(line, "/sub"), "not in the sub-cgroup: %s", line)
		}
		r, c = p.both(id, "exec", "--cgroup", "nosuch", id, "true")
		sameCode(t, r, c, "exec --cgroup nosuch")
		// The container's processes must be gone before the sub-cgroups can be.
		p.both(id, "kill", "--all", id, "KILL")
		require.Eventually(t, func() bool { return p.e.state(id).Status == specs.StateStopped }, waitLong, tick)
	})
}

// makeSubCgroups makes a sub-cgroup name in every hierarchy of a
// process's cgroup, ready to take processes, and returns the directories.
func makeSubCgroups(t *testing.T, pid int, name string) []string {
	t.Helper()
	var made []string
	for _, dir := range processCgroupDirs(t, pid) {
		sub := filepath.Join(dir, name)
		require.NoError(t, os.Mkdir(sub, 0o755))
		made = append(made, sub)
		// A v1 cpuset group takes no process before it has cpus and mems.
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if data, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
				require.NoError(t, os.WriteFile(filepath.Join(sub, f), data, 0o644))
			}
		}
	}
	return made
}

// processCgroupDirs are the host directories of a process's cgroup, one per hierarchy.
func processCgroupDirs(t *testing.T, pid int) []string {
	t.Helper()
	type mnt struct{ root, point, fstype, opts string }
	var mounts []mnt
	f, err := os.Open("/proc/self/mountinfo")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, _ := strings.Cut(sc.Text(), " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(b) >= 3 && (b[0] == "cgroup" || b[0] == "cgroup2") {
			mounts = append(mounts, mnt{a[3], a[4], b[0], b[2]})
		}
	}
	data, err := os.ReadFile("/proc/" + itoa(pid) + "/cgroup")
	require.NoError(t, err)
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		for _, m := range mounts {
			match := parts[1] == "" && m.fstype == "cgroup2"
			if parts[1] != "" && m.fstype == "cgroup" {
				match = true
				opts := "," + m.opts + ","
				for _, c := range strings.Split(parts[1], ",") {
					match = match && strings.Contains(opts, ","+c+",")
				}
			}
			if match {
				dirs = append(dirs, filepath.Join(m.point, strings.TrimPrefix(parts[2], m.root)))
				break
			}
		}
	}
	require.NotEmpty(t, dirs)
	return dirs
}
