package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/tests/fixture"
)

// stats is the part of "cmrun events --stats" the tests read.
type stats struct {
	Type string `json:"type"`
	Data struct {
		Memory struct {
			Limit   uint64 `json:"limit"`
			OOMKill uint64 `json:"oomKill"`
		} `json:"memory"`
		Pids struct {
			Current uint64 `json:"current"`
			Limit   uint64 `json:"limit"`
		} `json:"pids"`
		CPU cpuStats `json:"cpu"`
	} `json:"data"`
}

type cpuStats struct {
	UsageNanos       uint64 `json:"usageNanos"`
	Periods          uint64 `json:"periods"`
	ThrottledPeriods uint64 `json:"throttledPeriods"`
}

func (e *env) stats(id string) stats {
	e.t.Helper()
	r := e.cmrun("events", "--stats", id)
	require.Equal(e.t, 0, r.code, r.stderr)
	var s stats
	require.NoError(e.t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
	require.Equal(e.t, "stats", s.Type)
	return s
}

// detached starts a container in the background; its stdout and stderr go to a file.
func (e *env) detached(bundle string) (id string, out string) {
	e.t.Helper()
	id = e.newID()
	e.t.Cleanup(func() { e.forceDelete(id) })
	out = filepath.Join(e.dir, id+".out")
	f, err := os.Create(out)
	require.NoError(e.t, err)
	defer f.Close()
	cmd := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "run", "--detach", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	data, _ := os.ReadFile(out)
	require.NoError(e.t, err, string(data))
	return id, out
}

func i64(v int64) *int64 { return &v }

// TestMemoryLimitOOMKill: a 16 MiB container that wants 64 MiB is
// OOM-killed, and state and events say so.
func TestMemoryLimitOOMKill(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		limit := int64(16 << 20)
		s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit}
	}, "sh", "-c", "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived ${#x}")
	id, out := e.detached(bundle)
	require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, waitLong, tick)
	r := e.cmrun("state", id)
	require.Contains(t, r.stdout, `"oomKilled": true`)
	data, _ := os.ReadFile(out)
	require.NotContains(t, string(data), "survived")
	ev := e.cmrun("events", id)
	require.Equal(t, 0, ev.code, ev.stderr)
	require.JSONEq(t, `{"type":"oom","id":"`+id+`"}`, strings.TrimSpace(ev.stdout))
	require.Equal(t, 0, e.cmrun("delete", id).code)
	e.requireNoLeftovers(id, bundle)
}

// TestPidsLimit: with pids.limit 8 the ninth task cannot be forked. A
// shell dies when a fork fails, so the forking happens in a child shell:
// PID 1 + the child shell + 6 sleeps are 8 tasks, the 7th sleep fails.
func TestPidsLimit(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(8)}
	}, "sh", "-c", `sh -c 'i=0; while :; do sleep 300 & i=$((i+1)); echo forked $i; done'; echo started; sleep 300`)
	id, out := e.detached(bundle)
	require.Eventually(t, func() bool { b, _ := os.ReadFile(out); return strings.Contains(string(b), "started") }, waitLong, tick)
	// After the child shell died: PID 1 (which execs its last command,
	// sleep) and the 6 sleeps.
	require.Eventually(t, func() bool { return e.stats(id).Data.Pids.Current == 7 }, waitLong, tick)
	require.EqualValues(t, 8, e.stats(id).Data.Pids.Limit)
	data, _ := os.ReadFile(out)
	require.Contains(t, string(data), "forked 6\n")
	require.NotContains(t, string(data), "forked 7")
	require.Equal(t, 1, strings.Count(string(data), "can't fork"), string(data))

	// update raises the limit, and the container can fork again.
	r := e.cmrunIn("", []byte(`{"pids":{"limit":20}}`), "update", "--resources", "-", id)
	require.Equal(t, 0, r.code, r.stderr)
	require.EqualValues(t, 20, e.stats(id).Data.Pids.Limit)

	ps := e.cmrun("ps", "--format", "json", id)
	require.Equal(t, 0, ps.code, ps.stderr)
	var pids []int
	require.NoError(t, json.Unmarshal([]byte(ps.stdout), &pids))
	require.Len(t, pids, 7)
	require.Equal(t, 0, e.cmrun("delete", "--force", id).code)
	e.requireNoLeftovers(id, bundle)
}

// TestCPUQuota: a busy loop limited to 2% of a CPU is throttled and, by
// the kernel's own count, uses little more than its quota per period.
func TestCPUQuota(t *testing.T) {
	e := newEnv(t)
	quota := int64(2000) // 2% of a CPU: throttled even when the busy loop gets little CPU on a loaded host
	period := uint64(100000)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}, "sh", "-c", "while :; do :; done")
	id, _ := e.detached(bundle)
	cpu := func() cpuStats { return e.stats(id).Data.CPU }
	require.Eventually(t, func() bool { return cpu().ThrottledPeriods > 0 }, waitLong, tick, "a 2%% quota must throttle a busy loop")

	// Measured from the first throttle on, so the container's start (which
	// runs in the group before the loop does) is not counted, and over many
	// periods, so a scheduler tick's overrun of one period is averaged out.
	first := cpu()
	var last cpuStats
	require.Eventually(t, func() bool { last = cpu(); return last.Periods >= first.Periods+10 }, waitLong, tick)
	periods := last.Periods - first.Periods
	used := last.UsageNanos - first.UsageNanos
	t.Logf("%d ns used in %d periods", used, periods)
	// An unlimited loop would use up to 100 ms per period; five times the
	// quota leaves room for the kernel's tick-sized overruns.
	require.LessOrEqual(t, used, 5*uint64(quota)*1000*(periods+1),
		"usage %d ns in %d periods of %d µs quota", used, periods, quota)
	require.Equal(t, 0, e.cmrun("delete", "--force", id).code)

	bundle = e.bundle(func(s *specs.Spec) {
		s.Linux.Resources.CPU = &specs.LinuxCPU{Period: &period}
	}, "sh", "-c", "while :; do :; done")
	id, _ = e.detached(bundle)
	require.Eventually(t, func() bool { return cpu().UsageNanos > 0 }, waitLong, tick)
	require.Zero(t, cpu().ThrottledPeriods, "no quota, no throttling")
	require.Equal(t, 0, e.cmrun("delete", "--force", id).code)
}

// TestPauseResume: a counter stops while the container is paused and
// goes on after resume.
func TestPauseResume(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) { s.Root.Readonly = false },
		"sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.02; done")
	id, _ := e.detached(bundle)
	counter := func() int {
		data, _ := os.ReadFile(filepath.Join(bundle, "rootfs/tmp/counter"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		return n
	}
	require.Eventually(t, func() bool { return counter() > 2 }, waitLong, tick)
	require.Equal(t, 0, e.cmrun("pause", id).code)
	require.Equal(t, runtimeStatusPaused, e.state(id).Status)
	frozen := counter()
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, frozen, counter(), "the counter must not move while paused")
	requireOneLineError(t, e.cmrun("pause", id), "that is paused")

	require.Equal(t, 0, e.cmrun("resume", id).code)
	require.Equal(t, specs.StateRunning, e.state(id).Status)
	require.Eventually(t, func() bool { return counter() > frozen }, waitLong, tick)
	requireOneLineError(t, e.cmrun("resume", id), "it is not paused")

	// A paused container can be deleted at once: its frozen processes are thawed to die.
	require.Equal(t, 0, e.cmrun("pause", id).code)
	start := time.Now()
	require.Equal(t, 0, e.cmrun("delete", "--force", id).code)
	t.Logf("delete --force of a paused container took %v", time.Since(start))
	e.requireNoLeftovers(id, bundle)
}

const runtimeStatusPaused = specs.ContainerState("paused")

// TestKillAll: without a PID namespace the init's death does not end its
// children; kill --all reaches every process in the cgroup.
func TestKillAll(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		var ns []specs.LinuxNamespace
		for _, n := range s.Linux.Namespaces {
			if n.Type != specs.PIDNamespace {
				ns = append(ns, n)
			}
		}
		s.Linux.Namespaces = ns
	}, "sh", "-c", "sleep 300 & sleep 300 & echo started; wait")
	id, out := e.detached(bundle)
	require.Eventually(t, func() bool { b, _ := os.ReadFile(out); return strings.Contains(string(b), "started") }, waitLong, tick)
	require.Len(t, fixture.ProcessesInCgroup(id), 3)
	r := e.cmrun("kill", "--all", id, "KILL")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, fixture.ProcessesInCgroup(id))
	require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, waitLong, tick)
	require.Equal(t, 0, e.cmrun("delete", id).code)
	e.requireNoLeftovers(id, bundle)
}

// TestCgroupBadInput: nonsense limits and paths fail create with the
// field named, and nothing is created.
func TestCgroupBadInput(t *testing.T) {
	e := newEnv(t)
	e.requireCreateFails([]badConfig{
		{"negative memory", func(s *specs.Spec) { s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(-5)} }, "linux.resources.memory.limit"},
		{"swap below limit", func(s *specs.Spec) {
			s.Linux.Resources.Memory = &specs.LinuxMemory{Limit: i64(2000000), Swap: i64(1000000)}
		}, "linux.resources.memory.swap"},
		{"zero period", func(s *specs.Spec) {
			zero := uint64(0)
			s.Linux.Resources.CPU = &specs.LinuxCPU{Quota: i64(1000), Period: &zero}
		}, "linux.resources.cpu.period"},
		{"bad cpus", func(s *specs.Spec) { s.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: "0-x"} }, "linux.resources.cpu.cpus"},
		{"unified on v1", func(s *specs.Spec) { s.Linux.Resources.Unified = map[string]string{"foo.max": "1"} }, "linux.resources.unified"},
		{"escaping path", func(s *specs.Spec) { s.Linux.CgroupsPath = "../../escape" }, "linux.cgroupsPath"},
	})
	matches, _ := filepath.Glob("/sys/fs/cgroup/*/escape")
	require.Empty(t, matches, "an escaping cgroupsPath must create nothing")
}

// TestPidsLimitTooLowForInit: a pids limit the init itself cannot live
// with (its Go runtime needs a few threads) fails create with a hint at
// the cause, and leaves nothing behind. The init's own crash report comes
// first on stderr; cmrun's line is the last.
func TestPidsLimitTooLowForInit(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) { s.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(3)} }, "true")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	r := e.cmrun("create", "--bundle", bundle, id)
	require.NotEqual(t, 0, r.code)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	require.Contains(t, lines[len(lines)-1], "is linux.resources.pids.limit 3 too low?")
	e.requireNoLeftovers(id, bundle)
}

// TestCgroupEntry: the init and exec'd processes are in the container's
// cgroup in every hierarchy (stage 0 moves itself through the v1 "tasks"
// files, the init is cloned into the v2 group), and the cgroup namespace
// is rooted there, so inside every line of /proc/self/cgroup says "/".
// Under a user namespace clone3 may not write the v2 group, and the init
// must still get in, the slow way.
func TestCgroupEntry(t *testing.T) {
	e := newEnv(t)
	v2 := "v1 tasks files)"
	for _, procs := range []string{"/sys/fs/cgroup/unified/cgroup.procs", "/sys/fs/cgroup/cgroup.procs"} {
		if _, err := os.Stat(procs); err == nil {
			v2 = "cgroup v2 by clone3)"
		}
	}
	userns := func(s *specs.Spec) { fixture.WithUserNamespace(s, 100000, 200000) }
	tests := []struct {
		name string
		edit func(*specs.Spec)
		join string // how the trace says the init joined
	}{
		{"own namespaces", nil, v2},
		{"user namespace", userns, strings.Replace(v2, "clone3)", "cgroup.procs (clone3 refused)", 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			bundle := e.bundle(tc.edit, "sleep", "300")
			id := e.newID()
			t.Cleanup(func() { e.forceDelete(id) })
			r := e.cmrun("run", "--detach", "--trace", "--bundle", bundle, id)
			require.Equal(t, 0, r.code, r.stderr)
			require.Contains(t, r.stderr, "nsexec: join cgroup (")
			require.Contains(t, r.stderr, tc.join)

			host, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", e.state(id).Pid))
			require.NoError(t, err)
			for _, line := range strings.Split(strings.TrimSpace(string(host)), "\n") {
				require.True(t, strings.HasSuffix(line, "/"+id), "init outside the container's cgroup: %s", line)
			}
			for _, who := range []string{"/proc/1/cgroup", "/proc/self/cgroup"} {
				r = e.cmrun("exec", id, "cat", who)
				require.Equal(t, 0, r.code, r.stderr)
				for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
					require.True(t, strings.HasSuffix(line, ":/"), "%s inside the container: %s", who, line)
				}
			}
			require.Equal(t, 0, e.cmrun("delete", "--force", id).code)
			e.requireNoLeftovers(id, bundle)
		})
	}
}

// TestCPULimitsAfterSetup: the CPU shares and bandwidth are written once
// the init has built the container, as runc does: while it works (seen by
// a createRuntime hook) the group has the defaults, after create the
// configured values. Kubernetes gives every pod sandbox cpu.shares 2, and
// on a busy host an init working under that weight took seconds (critest).
func TestCPULimitsAfterSetup(t *testing.T) {
	e := newEnv(t)
	cpuDir := "/sys/fs/cgroup/cpu"
	if _, err := os.Stat(filepath.Join(cpuDir, "cpu.shares")); err != nil {
		t.Skip("no cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu; the v2 VM runs cgroupfs's own tests")
	}
	path := fmt.Sprintf("/cmt-cpu-%d", os.Getpid())
	files := []string{"cpu.shares", "cpu.cfs_quota_us"}
	out := filepath.Join(e.dir, "during-setup")
	bundle := e.bundle(func(s *specs.Spec) {
		s.Linux.CgroupsPath = path
		shares, quota, period := uint64(2), int64(10000), uint64(100000)
		s.Linux.Resources.CPU = &specs.LinuxCPU{Shares: &shares, Quota: &quota, Period: &period}
		dir := filepath.Join(cpuDir, path)
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
			fmt.Sprintf("cat %s/%s %s/%s > %s", dir, files[0], dir, files[1], out)}}}}
	}, "sleep", "300")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	r := e.cmrun("create", "--bundle", bundle, id)
	require.Equal(t, 0, r.code, r.stderr)
	during, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "1024\n-1\n", string(during), "cpu.shares and cpu.cfs_quota_us while the init builds the container")
	var after []string
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(cpuDir, path, f))
		require.NoError(t, err)
		after = append(after, strings.TrimSpace(string(data)))
	}
	require.Equal(t, []string{"2", "10000"}, after, "after create")
}
