package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// These tests drive restart policies, pause/resume, update, labels and
// filters through cmctl, the real cmanagerd, cmshim and busybox containers.

// createCLI runs cmctl create with args and returns the new id (READY).
func (m *managerProc) createCLI(args ...string) string {
	m.t.Helper()
	return m.cmctlOK(append([]string{"create", "--rootfs", managerRootfs()}, args...)...)
}

// inspect runs cmctl inspect and decodes it.
func (m *managerProc) inspect(id string) api.Container {
	m.t.Helper()
	var ct api.Container
	require.NoError(m.t, json.Unmarshal([]byte(m.cmctlOK("inspect", id)), &ct))
	return ct
}

// untilTransitions reads events of id until n transitions to `to`.
func untilTransitions(t *testing.T, events *api.EventStream, id string, to manager.State, n int) []string {
	t.Helper()
	var seen []string
	for n > 0 {
		ev, err := events.Next()
		require.NoError(t, err, "after %v", seen)
		if ev.Type != api.EventTransition || ev.ID != id {
			continue
		}
		seen = append(seen, ev.From.String()+"→"+ev.To.String()+" by "+ev.By)
		if ev.To == to {
			n--
		}
	}
	return seen
}

// shortTempDir is a temporary directory whose name, unlike a subtest's
// t.TempDir, leaves room for the sockets under it (108 bytes at most).
func shortTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "cm-policy-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// cgroupFile reads one file of the container's v1 controller directory.
func cgroupFile(t *testing.T, controller, id, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", controller, "cm", id, file))
	require.NoError(t, err)
	return strings.TrimSpace(string(data))
}

func TestManagerRestartPolicy(t *testing.T) {
	m := startManager(t, t.TempDir(), "--heartbeat", "200ms", "--restart-grace", "5s")

	t.Run("on-failure:2 restarts twice, then stays DEAD with the exit code", func(t *testing.T) {
		m := m.in(t)
		events, err := m.Client.Events(m.ctx(), nil)
		require.NoError(t, err)
		defer events.Close()
		id := m.createCLI("--restart", "on-failure:2", "--", "sh", "-c", "echo run; exit 3")
		m.cmctlOK("start", id)
		seen := untilTransitions(t, events, id, manager.Dead, 3)
		restart := []string{"DEAD→CREATING by restart", "CREATING→READY by shim", "READY→RUNNING by shim", "RUNNING→DEAD by shim"}
		require.Equal(t, append(append([]string{"CREATING→READY by shim", "READY→RUNNING by shim", "RUNNING→DEAD by shim"}, restart...), restart...), seen)
		ct := m.inspect(id)
		require.Equal(t, manager.Dead, ct.State)
		require.Equal(t, 3, ct.ExitCode)
		require.Equal(t, 2, ct.RestartCount)
		require.Equal(t, "on-failure:2", ct.Restart)
		r := m.cmctl("wait", id)
		require.Equal(t, 3, r.code, r.stderr)
		require.Equal(t, "run\nrun\nrun", m.cmctlOK("logs", id), "the log spans the restarts")
		m.cmctlOK("rm", id)
		m.requireContainerGone(id)
	})

	t.Run("a user stop is not undone by always", func(t *testing.T) {
		m := m.in(t)
		events, err := m.Client.Events(m.ctx(), nil)
		require.NoError(t, err)
		defer events.Close()
		stopped := m.createCLI("--restart", "always", "--init", "--", "sleep", "1000")
		m.cmctlOK("start", stopped)
		m.cmctlOK("stop", "--time", "20", stopped)
		// A witness that dies by itself with the same first back-off: once
		// it has come back, a restart of the stopped one would have too.
		witness := m.createCLI("--restart", "on-failure:1", "--", "sh", "-c", "exit 1")
		m.cmctlOK("start", witness)
		untilTransitions(t, events, witness, manager.Dead, 2)
		require.Equal(t, 1, m.inspect(witness).RestartCount)
		ct := m.inspect(stopped)
		require.Equal(t, manager.Dead, ct.State)
		require.Equal(t, 0, ct.RestartCount)
		m.cmctlOK("rm", stopped)
		m.cmctlOK("rm", witness)
		m.requireContainerGone(stopped)
		m.requireContainerGone(witness)
	})

	t.Run("rm --force of a container that keeps restarting leaves nothing", func(t *testing.T) {
		m := m.in(t)
		events, err := m.Client.Events(m.ctx(), nil)
		require.NoError(t, err)
		defer events.Close()
		id := m.createCLI("--restart", "always", "--", "sh", "-c", "exit 1")
		m.cmctlOK("start", id)
		untilTransitions(t, events, id, manager.Creating, 2)
		m.cmctlOK("rm", "--force", id)
		m.requireContainerGone(id)
		m.requireNoShims()
	})

	t.Run("always survives kill -9 of the manager during the back-off", func(t *testing.T) {
		// A manager of its own: the one it kills and restarts is then the one its cleanup ends.
		m := startManager(t, shortTempDir(t), "--heartbeat", "200ms", "--restart-grace", "5s")
		events, err := m.Client.Events(m.ctx(), nil)
		require.NoError(t, err)
		id := m.createCLI("--restart", "always", "--", "sh", "-c", "sleep 1; exit 1")
		m.cmctlOK("start", id)
		untilTransitions(t, events, id, manager.Dead, 1)
		events.Close()
		m.kill9()
		data, err := os.ReadFile(filepath.Join(m.StateDir, "containers", id, "state.json"))
		require.NoError(t, err)
		var rec struct {
			Status manager.Snapshot `json:"status"`
		}
		require.NoError(t, json.Unmarshal(data, &rec))
		before := rec.Status.RestartCount

		m.restart(m.StateDir)
		require.Eventually(t, func() bool {
			ct, err := m.Client.Get(m.ctx(), id)
			return err == nil && ct.RestartCount > before && ct.State == manager.Running
		}, waitLong, tick, "never restarted after the manager's kill -9\n%s", m.log())
		log := m.log()
		require.Contains(t, log[strings.LastIndex(log, "--- cmanagerd run"):], "restart scheduled", "by the restarted manager")
		// A user's stop ends it for good.
		m.cmctlOK("kill", id)
		r := m.cmctl("wait", id)
		require.Equal(t, 137, r.code, r.stderr)
		m.cmctlOK("rm", id)
		m.requireContainerGone(id)
	})
}

func TestManagerPause(t *testing.T) {
	m := startManager(t, t.TempDir(), "--heartbeat", "200ms")

	t.Run("pause freezes, resume thaws, a paused container survives the manager's restart", func(t *testing.T) {
		// A manager of its own: the one it kills and restarts is then the one its cleanup ends.
		m := startManager(t, shortTempDir(t), "--heartbeat", "200ms")
		id := m.createCLI("--", "sleep", "1000")
		m.cmctlOK("start", id)
		require.Equal(t, id, m.cmctlOK("pause", id))
		require.Equal(t, "FROZEN", cgroupFile(t, "freezer", id, "freezer.state"))
		require.Equal(t, manager.Paused, m.inspect(id).State)
		r := m.cmctl("pause", id)
		require.Equal(t, 1, r.code)
		require.Equal(t, "cmctl: cannot pause container "+id+": it is PAUSED (pause needs RUNNING)\n", r.stderr)

		m.kill9()
		m.restart(m.StateDir)
		ct := m.waitConfirmed(id)
		require.Equal(t, manager.Paused, ct.State, "the shim reports PAUSED to the new manager")

		m.cmctlOK("resume", id)
		require.Equal(t, "THAWED", cgroupFile(t, "freezer", id, "freezer.state"))
		require.Equal(t, manager.Running, m.inspect(id).State)
		m.cmctlOK("rm", "--force", id)
		m.requireContainerGone(id)
	})

	t.Run("stop, kill and rm --force of a paused container", func(t *testing.T) {
		m := m.in(t)
		// --init: the tiny init passes SIGTERM on, so the stop ends with it (143), not with SIGKILL.
		stopped := m.createCLI("--init", "--", "sleep", "1000")
		killed := m.createCLI("--", "sleep", "1000")
		removed := m.createCLI("--", "sleep", "1000")
		for _, id := range []string{stopped, killed, removed} {
			m.cmctlOK("start", id)
		}
		waitForCminit(t, m.inspect(stopped).Pid) // then freeze it
		for _, id := range []string{stopped, killed, removed} {
			m.cmctlOK("pause", id)
		}
		m.cmctlOK("stop", "--time", "60", stopped)
		ct := m.inspect(stopped)
		require.Equal(t, manager.Dead, ct.State)
		require.Equal(t, 143, ct.ExitCode, "SIGTERM, delivered at the thaw")
		m.cmctlOK("kill", killed)
		r := m.cmctl("wait", killed)
		require.Equal(t, 137, r.code, r.stderr)
		m.cmctlOK("rm", "--force", removed)
		m.cmctlOK("rm", stopped)
		m.cmctlOK("rm", killed)
		for _, id := range []string{stopped, killed, removed} {
			m.requireContainerGone(id)
		}
	})

	t.Run("pause of a READY container is refused", func(t *testing.T) {
		m := m.in(t)
		id := m.createCLI("--", "sleep", "1000")
		r := m.cmctl("pause", id)
		require.Equal(t, 1, r.code)
		require.Equal(t, "cmctl: cannot pause container "+id+": it is READY (pause needs RUNNING)\n", r.stderr)
		require.Equal(t, manager.Ready, m.inspect(id).State)
		r = m.cmctl("resume", id)
		require.Equal(t, "cmctl: cannot resume container "+id+": it is READY (resume needs PAUSED)\n", r.stderr)
		m.cmctlOK("rm", "--force", id)
		m.requireContainerGone(id)
	})
}

func TestManagerUpdate(t *testing.T) {
	m := startManager(t, t.TempDir())
	id := m.createCLI("--memory", "64m", "--pids", "100", "--", "sleep", "1000")
	m.cmctlOK("start", id)
	require.Equal(t, "67108864", cgroupFile(t, "memory", id, "memory.limit_in_bytes"))

	require.Equal(t, id, m.cmctlOK("update", "--memory", "32m", "--pids", "50", "--cpus", "0.5", id))
	require.Equal(t, "33554432", cgroupFile(t, "memory", id, "memory.limit_in_bytes"))
	require.Equal(t, "50", cgroupFile(t, "pids", id, "pids.max"))
	require.Equal(t, "50000", cgroupFile(t, "cpu", id, "cpu.cfs_quota_us"))
	ct := m.inspect(id)
	require.Equal(t, int64(32<<20), ct.Memory)
	require.Equal(t, int64(50), ct.Pids)
	require.Equal(t, 0.5, ct.CPUs)

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"update", id}, "cmctl: update: nothing to change: give memory, pids, cpus or restart\n"},
		{[]string{"update", "--pids", "0", id}, "cmctl: pids: 0: want a number of processes > 0\n"},
		{[]string{"update", "--restart", "sometimes", id}, "cmctl: restart: bad restart policy \"sometimes\": want no, on-failure[:N] or always\n"},
		{[]string{"update", "--memory", "lots", id}, "cmctl: --memory: \"lots\": want a number of bytes, with an optional k, m or g\n"},
	} {
		r := m.cmctl(tt.args...)
		require.Equal(t, 1, r.code, "%v", tt.args)
		require.Equal(t, tt.want, r.stderr, "%v", tt.args)
	}
	require.Equal(t, "33554432", cgroupFile(t, "memory", id, "memory.limit_in_bytes"), "refused updates change nothing")
	m.cmctlOK("update", "--restart", "on-failure:1", id)
	ct = m.inspect(id)
	require.Equal(t, "on-failure:1", ct.Restart)
	require.Equal(t, int64(32<<20), ct.Memory, "a policy update keeps the limits")

	m.cmctlOK("kill", id)
	m.cmctl("wait", id)
	r := m.cmctl("update", "--memory", "16m", id)
	require.Equal(t, 1, r.code)
	require.Equal(t, "cmctl: cannot update container "+id+": it is DEAD (update needs READY or RUNNING or PAUSED)\n", r.stderr)
	m.cmctlOK("rm", id)
	r = m.cmctl("update", "--memory", "16m", id)
	require.Equal(t, 1, r.code)
	require.Equal(t, "cmctl: container \""+id+"\": no such container\n", r.stderr)
	r = m.cmctl("update", "--restart", "always", id)
	require.Equal(t, 1, r.code)
	require.Equal(t, "cmctl: container \""+id+"\": no such container\n", r.stderr, "a restart policy for a removed container")
	m.requireContainerGone(id)
}

func TestManagerLabelsAndFilters(t *testing.T) {
	m := startManager(t, t.TempDir())
	web := m.createCLI("--name", "web", "--label", "app=shop", "--label", "tier=web", "--", "sleep", "1000")
	db := m.createCLI("--name", "db", "--label", "app=shop", "--label", "tier=db", "--", "sleep", "1000")
	m.cmctlOK("start", web)
	require.Equal(t, map[string]string{"app": "shop", "tier": "web"}, m.inspect(web).Labels)

	require.Equal(t, web+" web", m.cmctlOK("ps", "--filter", "label=app=shop", "--filter", "state=RUNNING", "--format", `{{.ID}} {{index .Labels "tier"}}`))
	require.Equal(t, db, m.cmctlOK("ps", "-q", "--filter", "label=tier=db"))
	require.Equal(t, db, m.cmctlOK("ps", "-q", "--filter", "name=db", "--filter", "label=app"))
	require.Empty(t, m.cmctlOK("ps", "-q", "--filter", "name=db", "--filter", "state=running"))
	var list []api.Container
	require.NoError(t, json.Unmarshal([]byte(m.cmctlOK("ps", "--format", "json", "--filter", "label=app=shop")), &list))
	require.Len(t, list, 2)

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"ps", "--filter", "colour=red"}, "cmctl: filter: unknown filter \"colour\" (keys: state, label, name, id)\n"},
		{[]string{"ps", "--filter", "label"}, "cmctl: filter: \"label\": want KEY=VALUE (keys: state, label, name, id)\n"},
		{[]string{"create", "--rootfs", managerRootfs(), "--restart", "sometimes", "--", "true"}, "cmctl: restart: bad restart policy \"sometimes\": want no, on-failure[:N] or always\n"},
		{[]string{"create", "--rootfs", managerRootfs(), "--restart", "on-failure:-1", "--", "true"}, "cmctl: restart: bad restart policy \"on-failure:-1\": the maximum after on-failure: must be a whole number ≥ 0\n"},
		{[]string{"create", "--rootfs", managerRootfs(), "--label", "=x", "--", "true"}, "cmctl: --label \"=x\": want KEY=VALUE\n"},
	} {
		r := m.cmctl(tt.args...)
		require.Equal(t, 1, r.code, "%v", tt.args)
		require.Equal(t, tt.want, r.stderr, "%v", tt.args)
	}
	require.Len(t, strings.Fields(m.cmctlOK("ps", "-q")), 2, "refused creates leave nothing")
	m.cmctlOK("rm", "--force", web)
	m.cmctlOK("rm", "--force", db)
	m.requireContainerGone(web)
	m.requireContainerGone(db)
}
