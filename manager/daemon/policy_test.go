package daemon_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// createWith creates a container of the fake workload with req's extras.
func (h *harness) createWith(req api.CreateRequest) api.Container {
	h.t.Helper()
	req.Rootfs = h.rootfs
	c, err := h.client.Create(ctxT(h.t), req)
	require.NoError(h.t, err)
	return c
}

// transitions reads the event stream until it has seen n transitions of
// container id to state `to`, and returns every transition of id seen.
func transitions(t *testing.T, events *api.EventStream, id string, to manager.State, n int) []string {
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

// TestRestartOnFailure: on-failure:2 restarts a program that exits 3
// exactly twice, each restart a chain of recorded transitions, then
// leaves it DEAD with its exit code.
func TestRestartOnFailure(t *testing.T) {
	h := newHarness(t, "")
	events, err := h.client.Events(ctxT(t), nil)
	require.NoError(t, err)
	defer events.Close()
	c := h.createWith(api.CreateRequest{Args: []string{"exit", "3"}, Restart: "on-failure:2"})
	h.waitState(c.ID, manager.Ready)
	_, err = h.client.Start(ctxT(t), c.ID)
	require.NoError(t, err)

	seen := transitions(t, events, c.ID, manager.Dead, 3)
	require.Equal(t, []string{
		"CREATING→READY by shim", "READY→RUNNING by shim", "RUNNING→DEAD by shim",
		"DEAD→CREATING by restart", "CREATING→READY by shim", "READY→RUNNING by shim", "RUNNING→DEAD by shim",
		"DEAD→CREATING by restart", "CREATING→READY by shim", "READY→RUNNING by shim", "RUNNING→DEAD by shim",
	}, seen)
	got := h.get(c.ID)
	require.Equal(t, manager.Dead, got.State)
	require.Equal(t, 3, got.ExitCode)
	require.Equal(t, 2, got.RestartCount)
	require.Equal(t, "on-failure:2", got.Restart)
	// wait answers at the last death: nothing brings it back.
	w, err := h.client.Wait(ctxT(t), c.ID, manager.Creating)
	require.NoError(t, err)
	require.Equal(t, manager.Dead, w.State)
}

// TestRestartNotAfterUserStop: a client's stop or kill is never undone by
// --restart always, while a container that exits by itself is restarted.
func TestRestartNotAfterUserStop(t *testing.T) {
	h := newHarness(t, "")
	events, err := h.client.Events(ctxT(t), nil)
	require.NoError(t, err)
	defer events.Close()
	run := func(args ...string) string {
		c := h.createWith(api.CreateRequest{Args: args, Restart: "always"})
		h.waitState(c.ID, manager.Ready)
		_, err := h.client.Start(ctxT(t), c.ID)
		require.NoError(t, err)
		return c.ID
	}
	stopped, killed := run("sleep"), run("sleep")
	timeout := 5.0
	_, err = h.client.Stop(ctxT(t), stopped, api.StopRequest{Timeout: &timeout})
	require.NoError(t, err)
	h.waitState(stopped, manager.Dead)
	_, err = h.client.Kill(ctxT(t), killed, "KILL")
	require.NoError(t, err)
	h.waitState(killed, manager.Dead)
	// This one dies on its own later, with the same first back-off: once
	// it has been restarted, the others' restarts would have happened.
	exits := run("exit", "0")
	transitions(t, events, exits, manager.Running, 2)
	for _, id := range []string{stopped, killed} {
		got := h.get(id)
		require.Equal(t, manager.Dead, got.State, id)
		require.Equal(t, 0, got.RestartCount, id)
	}
	require.GreaterOrEqual(t, h.get(exits).RestartCount, 1)
}

// TestRestartResumesAfterDaemonRestart: a restart pending in the record
// when the daemon went down happens once it is up again. The record is
// made pending by hand while the daemon is down (as if it had died right
// after writing it): a container that died under policy "no" gets
// on-failure:1.
func TestRestartResumesAfterDaemonRestart(t *testing.T) {
	h := newHarness(t, "")
	c := h.createWith(api.CreateRequest{Args: []string{"exit", "1"}})
	h.waitState(c.ID, manager.Ready)
	_, err := h.client.Start(ctxT(t), c.ID)
	require.NoError(t, err)
	h.waitState(c.ID, manager.Dead)
	require.NoError(t, h.stop())

	path := filepath.Join(h.cfg.StateDir, "containers", c.ID, "state.json")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var rec map[string]any
	require.NoError(t, json.Unmarshal(data, &rec))
	rec["spec"].(map[string]any)["restart"] = "on-failure:1"
	data, err = json.Marshal(rec)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o600))

	h.start()
	info, err := h.client.Info(ctxT(t))
	require.NoError(t, err)
	since := info.Boot << 40 // every event of this boot
	events, err := h.client.Events(ctxT(t), &since)
	require.NoError(t, err)
	defer events.Close()
	seen := transitions(t, events, c.ID, manager.Dead, 1)
	require.Contains(t, seen, "DEAD→CREATING by restart")
	w := h.get(c.ID)
	require.Equal(t, manager.Dead, w.State)
	require.Equal(t, 1, w.RestartCount)
	require.Equal(t, 1, w.ExitCode)
}

// TestPauseResume: pause and resume go through the shim, and a paused
// container can still be stopped.
func TestPauseResume(t *testing.T) {
	h := newHarness(t, "")
	c := h.create("", "sleep")
	h.waitState(c.ID, manager.Ready)
	_, err := h.client.Pause(ctxT(t), c.ID)
	require.Equal(t, http.StatusConflict, api.StatusOf(err))
	require.EqualError(t, err, "cannot pause container "+c.ID+": it is READY (pause needs RUNNING)")
	_, err = h.client.Start(ctxT(t), c.ID)
	require.NoError(t, err)

	p, err := h.client.Pause(ctxT(t), c.ID)
	require.NoError(t, err)
	require.Equal(t, manager.Paused, p.State)
	_, err = h.client.Pause(ctxT(t), c.ID)
	require.EqualError(t, err, "cannot pause container "+c.ID+": it is PAUSED (pause needs RUNNING)")
	r, err := h.client.Resume(ctxT(t), c.ID)
	require.NoError(t, err)
	require.Equal(t, manager.Running, r.State)
	_, err = h.client.Resume(ctxT(t), c.ID)
	require.EqualError(t, err, "cannot resume container "+c.ID+": it is RUNNING (resume needs PAUSED)")

	_, err = h.client.Pause(ctxT(t), c.ID)
	require.NoError(t, err)
	timeout := 5.0
	s, err := h.client.Stop(ctxT(t), c.ID, api.StopRequest{Timeout: &timeout})
	require.NoError(t, err)
	require.Equal(t, manager.Stopping, s.State)
	h.waitState(c.ID, manager.Dead)
}

// TestUpdate: new limits reach the shim and show in inspect; wrong
// values, DEAD and removed containers are refused with one line each.
func TestUpdate(t *testing.T) {
	h := newHarness(t, "")
	c := h.createWith(api.CreateRequest{Args: []string{"sleep"}, Memory: 64 << 20})
	h.waitState(c.ID, manager.Ready)
	mem, cpus := int64(32<<20), 0.5
	u, err := h.client.Update(ctxT(t), c.ID, api.UpdateRequest{Memory: &mem, CPUs: &cpus})
	require.NoError(t, err)
	require.Equal(t, mem, u.Memory)
	require.Equal(t, cpus, u.CPUs)
	require.Equal(t, mem, h.get(c.ID).Memory)
	log, err := os.ReadFile(h.control(c.ID)[:len(h.control(c.ID))-len("shim.sock")] + "container.log")
	require.NoError(t, err)
	require.Contains(t, string(log), `"limit":33554432`)
	require.Contains(t, string(log), `"quota":50000`)

	for _, tt := range []struct {
		req  api.UpdateRequest
		want string
	}{
		{api.UpdateRequest{}, "update: nothing to change: give memory, pids, cpus or restart"},
		{api.UpdateRequest{Memory: ptr(int64(-1))}, "memory: -1: want a number of bytes > 0"},
		{api.UpdateRequest{Pids: ptr(int64(0))}, "pids: 0: want a number of processes > 0"},
		{api.UpdateRequest{CPUs: ptr(-1.0)}, "cpus: -1: want a number of CPUs > 0"},
		{api.UpdateRequest{Restart: ptr("on-failure:-1")}, `restart: bad restart policy "on-failure:-1"`},
	} {
		_, err := h.client.Update(ctxT(t), c.ID, tt.req)
		require.Equal(t, http.StatusBadRequest, api.StatusOf(err), "%v", err)
		require.ErrorContains(t, err, tt.want)
	}
	require.Equal(t, "no", h.get(c.ID).Restart)
	u, err = h.client.Update(ctxT(t), c.ID, api.UpdateRequest{Restart: ptr("on-failure:3")})
	require.NoError(t, err)
	require.Equal(t, "on-failure:3", u.Restart)
	require.Equal(t, mem, u.Memory, "a policy update keeps the limits")

	_, err = h.client.Kill(ctxT(t), c.ID, "KILL")
	require.NoError(t, err)
	h.waitState(c.ID, manager.Dead)
	require.Equal(t, 0, h.get(c.ID).RestartCount, "killed by a user: not restarted")
	_, err = h.client.Update(ctxT(t), c.ID, api.UpdateRequest{Memory: &mem})
	require.Equal(t, http.StatusConflict, api.StatusOf(err))
	require.EqualError(t, err, "cannot update container "+c.ID+": it is DEAD (update needs READY or RUNNING or PAUSED)")
	_, err = h.client.Delete(ctxT(t), c.ID, false)
	require.NoError(t, err)
	_, err = h.client.Update(ctxT(t), c.ID, api.UpdateRequest{Memory: &mem})
	require.Equal(t, http.StatusNotFound, api.StatusOf(err), "%v", err)
	_, err = h.client.Update(ctxT(t), c.ID, api.UpdateRequest{Restart: ptr("always")})
	require.Equal(t, http.StatusNotFound, api.StatusOf(err), "a restart policy for a removed container: %v", err)
}

func ptr[T any](v T) *T { return &v }

// TestLabelsAndFilters: labels are kept and shown; filters AND together;
// an unknown filter or a bad label or restart policy is one clear 400
// and creates nothing.
func TestLabelsAndFilters(t *testing.T) {
	h := newHarness(t, "")
	web := h.createWith(api.CreateRequest{Name: "web", Args: []string{"sleep"}, Labels: map[string]string{"app": "shop", "tier": "web"}})
	db := h.createWith(api.CreateRequest{Name: "db", Args: []string{"sleep"}, Labels: map[string]string{"app": "shop", "tier": "db"}})
	other := h.createWith(api.CreateRequest{Args: []string{"sleep"}})
	for _, c := range []api.Container{web, db, other} {
		h.waitState(c.ID, manager.Ready)
	}
	_, err := h.client.Start(ctxT(t), web.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"app": "shop", "tier": "web"}, h.get(web.ID).Labels)

	ids := func(filters ...string) []string {
		list, err := h.client.ListFiltered(ctxT(t), filters)
		require.NoError(t, err)
		var out []string
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	require.ElementsMatch(t, []string{web.ID, db.ID}, ids("label=app=shop"))
	require.ElementsMatch(t, []string{web.ID, db.ID}, ids("label=app"))
	require.ElementsMatch(t, []string{db.ID}, ids("label=app=shop", "label=tier=db"))
	require.ElementsMatch(t, []string{web.ID}, ids("label=app=shop", "state=running"))
	require.Empty(t, ids("label=app=shop", "state=running", "name=db"))
	require.ElementsMatch(t, []string{db.ID}, ids("name=db"))
	require.ElementsMatch(t, []string{other.ID}, ids("id="+other.ID[:6]))

	_, err = h.client.ListFiltered(ctxT(t), []string{"colour=red"})
	require.Equal(t, http.StatusBadRequest, api.StatusOf(err))
	require.EqualError(t, err, `filter: unknown filter "colour" (keys: state, label, name, id)`)
	_, err = h.client.ListFiltered(ctxT(t), []string{"state=asleep"})
	require.ErrorContains(t, err, `unknown state "asleep"`)

	for _, tt := range []struct {
		req  api.CreateRequest
		want string
	}{
		{api.CreateRequest{Restart: "sometimes"}, `restart: bad restart policy "sometimes": want no, on-failure[:N] or always`},
		{api.CreateRequest{Restart: "on-failure:-1"}, `restart: bad restart policy "on-failure:-1"`},
		{api.CreateRequest{Labels: map[string]string{"": "x"}}, "labels: a label needs a key"},
		{api.CreateRequest{Labels: map[string]string{"a=b": "x"}}, `labels: key "a=b": no '='`},
	} {
		tt.req.Args, tt.req.Rootfs = []string{"sleep"}, h.rootfs
		_, err := h.client.Create(ctxT(t), tt.req)
		require.Equal(t, http.StatusBadRequest, api.StatusOf(err), "%v", err)
		require.ErrorContains(t, err, tt.want)
	}
	list, err := h.client.List(ctxT(t))
	require.NoError(t, err)
	require.Len(t, list, 3, "refused creates leave nothing")
}

// TestRemoveWhileRestarting: rm --force of a container its policy keeps
// restarting leaves nothing: not its record, not a bundle a relaunch was
// writing, and no restart afterwards.
func TestRemoveWhileRestarting(t *testing.T) {
	h := newHarness(t, "")
	events, err := h.client.Events(ctxT(t), nil)
	require.NoError(t, err)
	defer events.Close()
	c := h.createWith(api.CreateRequest{Args: []string{"exit", "1"}, Restart: "always"})
	h.waitState(c.ID, manager.Ready)
	_, err = h.client.Start(ctxT(t), c.ID)
	require.NoError(t, err)
	transitions(t, events, c.ID, manager.Creating, 2)
	_, err = h.client.Delete(ctxT(t), c.ID, true)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(h.cfg.StateDir, "containers", c.ID))
	require.ErrorIs(t, err, os.ErrNotExist, "the container's directory is gone once rm answers")
	_, err = h.client.Get(ctxT(t), c.ID)
	require.Equal(t, http.StatusNotFound, api.StatusOf(err))
}
