package daemon_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
	"cm/shim/proto"
)

// player plays the shims of a daemon launched with mode "none", with
// their tokens: it sends heartbeats for the containers it keeps alive,
// registers and reports on the shim socket, and serves one control
// server on each container's control socket.
type player struct {
	h   *harness
	srv *http.Server

	mu      sync.Mutex
	beating map[string]bool
	seq     map[string]uint64
	calls   []string // requests the control sockets got
}

func newPlayer(t *testing.T, h *harness) *player {
	p := &player{h: h, beating: map[string]bool{}, seq: map[string]uint64{}}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.calls = append(p.calls, r.URL.Path+" "+strings.TrimSpace(string(body)))
		p.mu.Unlock()
		w.Write([]byte("{}"))
	})}
	srv := p.srv
	stop := make(chan struct{})
	go func() {
		tick := time.NewTicker(h.cfg.HeartbeatInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			p.mu.Lock()
			var ids []string
			for id, on := range p.beating {
				if on {
					ids = append(ids, id)
				}
			}
			p.mu.Unlock()
			for _, id := range ids {
				h.shimOf(id).Heartbeat(ctxT(t), id)
			}
		}
	}()
	t.Cleanup(func() { close(stop); srv.Close() })
	return p
}

func (p *player) beat(id string, on bool) {
	p.mu.Lock()
	p.beating[id] = on
	p.mu.Unlock()
}

func (p *player) report(t *testing.T, id string, s manager.State) error {
	p.mu.Lock()
	p.seq[id]++
	r := proto.Report{ID: id, State: proto.State(s.String()), Pid: 4242, Seq: p.seq[id]}
	p.mu.Unlock()
	if s == manager.Dead {
		r.ExitCode = 7
	}
	return p.h.shimOf(id).Report(ctxT(t), r)
}

func (p *player) register(t *testing.T, id string, s manager.State) error {
	req := proto.Register{ID: id, Pid: os.Getpid(), Control: p.h.control(id), State: proto.State(s.String())}
	if s == manager.Dead {
		req.Exit = &proto.ExitStatus{ExitCode: 7}
	}
	_, err := p.h.shimOf(id).Register(ctxT(t), req)
	return err
}

func (p *player) newContainer(t *testing.T) string {
	return p.newContainerWith(t, api.CreateRequest{Args: []string{"sleep"}})
}

// newContainerWith creates the container req asks for (its rootfs is the harness's).
func (p *player) newContainerWith(t *testing.T, req api.CreateRequest) string {
	req.Rootfs = p.h.rootfs
	c, err := p.h.client.Create(ctxT(t), req)
	require.NoError(t, err)
	ln, err := net.Listen("unix", p.h.control(c.ID))
	require.NoError(t, err)
	go p.srv.Serve(ln)
	p.beat(c.ID, true)
	return c.ID
}

// step is one transition and the actor that makes it.
type step struct {
	tr manager.Transition
	by manager.Actor
}

func (s step) String() string { return fmt.Sprintf("%s→%s by %s", s.tr.From, s.tr.To, s.by) }

// drive makes one transition happen through the API, as its actor would.
func (p *player) drive(t *testing.T, id string, s step) {
	t.Helper()
	tr := s.tr
	switch {
	case s.by == manager.Watchdog:
		p.beat(id, false)
		p.h.waitState(id, manager.Lost)
	case s.by == manager.Client && tr.To == manager.Stopping:
		timeout := 600.0
		c, err := p.h.client.Stop(ctxT(t), id, api.StopRequest{Timeout: &timeout})
		require.NoError(t, err)
		require.Equal(t, manager.Stopping, c.State)
	case s.by == manager.Shim && tr.From == manager.Lost && tr.To == manager.Stopping:
		// No shim reports STOPPING: a heartbeat brings it back to where it was.
		p.beat(id, true)
		p.h.waitState(id, manager.Stopping)
	case s.by == manager.Shim && (tr.From == manager.Lost || tr.From == manager.Creating && tr.To == manager.Ready):
		// A shim registers once it has created the container, and again
		// when it is back in touch.
		p.beat(id, true)
		require.NoError(t, p.register(t, id, tr.To))
	case s.by == manager.Shim:
		require.NoError(t, p.report(t, id, tr.To))
	default:
		t.Fatalf("the test has no way to drive %s through the API: teach it", s)
	}
	require.Equal(t, tr.To, p.h.get(id).State, "after %s", s)
}

// setupEdges are the transitions a path to a state may use: drivable on
// any container (the executor's needs a container made to fail), and not
// the heartbeat return to STOPPING, which needs one lost while stopping.
func pathTo(target manager.State) []step {
	type node struct {
		s    manager.State
		path []step
	}
	seen := map[manager.State]bool{manager.Creating: true}
	queue := []node{{s: manager.Creating}}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n.s == target {
			return n.path
		}
		for _, tr := range manager.Transitions() {
			if tr.From != n.s || seen[tr.To] || tr.To == manager.Stopping && tr.From == manager.Lost {
				continue
			}
			for _, by := range manager.Actors() {
				if tr.By&by != 0 && by != manager.Executor {
					seen[tr.To] = true
					queue = append(queue, node{tr.To, append(append([]step(nil), n.path...), step{tr, by})})
					break
				}
			}
		}
	}
	panic("unreachable state " + target.String())
}

// reach makes a new container and drives it to state s.
func (p *player) reach(t *testing.T, s manager.State) string {
	t.Helper()
	id := p.newContainer(t)
	for _, st := range pathTo(s) {
		p.drive(t, id, st)
	}
	return id
}

// TestStateMachine drives every transition of the table through the API,
// playing the executor's launcher and the shims, then checks that every
// transition and client operation the table does not allow is refused with
// 409, naming the current state and the attempted one.
func TestStateMachine(t *testing.T) {
	// Watchdog transitions wait for a TTL; keep it short (fifteen heartbeats).
	h := newHarness(t, "none", func(c *daemon.Config) {
		c.HeartbeatInterval, c.HeartbeatTTL = 40*time.Millisecond, 600*time.Millisecond
	})
	p := newPlayer(t, h)
	events, err := h.client.Events(ctxT(t), nil)
	require.NoError(t, err)

	var driven []step
	t.Run("legal", func(t *testing.T) {
		for _, tr := range manager.Transitions() {
			for _, by := range manager.Actors() {
				if tr.By&by == 0 {
					continue
				}
				s := step{tr, by}
				driven = append(driven, s)
				t.Run(s.String(), func(t *testing.T) {
					t.Parallel()
					switch {
					case by == manager.Executor:
						// The executor fails a container whose shim cannot be launched.
						require.Equal(t, step{manager.Transition{From: manager.Creating, To: manager.Dead}, by}.String(), s.String())
						c := h.create("", "no-launch")
						c = h.waitState(c.ID, manager.Dead)
						require.Contains(t, c.Error, "launch refused by the test")
					case by == manager.Restarter:
						// A container whose policy restarts it: its death
						// (exit code 7) is followed by the restart.
						require.Equal(t, manager.Dead, tr.From)
						id := p.newContainerWith(t, api.CreateRequest{Args: []string{"sleep"}, Restart: "on-failure:1"})
						path := pathTo(manager.Dead)
						for _, st := range path[:len(path)-1] {
							p.drive(t, id, st)
						}
						require.NoError(t, p.report(t, id, path[len(path)-1].tr.To))
						c := h.waitState(id, tr.To)
						require.Equal(t, 1, c.RestartCount)
						require.Equal(t, "on-failure:1", c.Restart)
					case tr.From == manager.Lost && tr.To == manager.Stopping:
						id := p.reach(t, manager.Stopping)
						p.drive(t, id, step{manager.Transition{From: manager.Stopping, To: manager.Lost}, manager.Watchdog})
						p.drive(t, id, s)
					default:
						p.drive(t, p.reach(t, tr.From), s)
					}
				})
			}
		}
	})

	t.Run("illegal", func(t *testing.T) {
		for _, from := range manager.States() {
			t.Run("from "+from.String(), func(t *testing.T) {
				t.Parallel()
				id := p.reach(t, from)
				lostFrom := manager.Creating // pathTo(Lost) loses a container while CREATING
				refused := func(err error, words ...string) {
					t.Helper()
					require.Error(t, err)
					require.Equal(t, http.StatusConflict, api.StatusOf(err), "%v", err)
					for _, w := range words {
						require.Contains(t, err.Error(), w)
					}
				}
				for _, reported := range []manager.State{manager.Ready, manager.Running, manager.Dead} {
					to := manager.Reported(from, lostFrom, reported)
					if to == from || manager.Allowed(from, to, manager.Shim) {
						continue
					}
					refused(p.report(t, id, reported), from.String()+" → "+to.String())
				}
				timeout := 600.0
				ops := []struct {
					op manager.Op
					do func() error
				}{
					{manager.OpStart, func() error { _, err := h.client.Start(ctxT(t), id); return err }},
					{manager.OpStop, func() error { _, err := h.client.Stop(ctxT(t), id, api.StopRequest{Timeout: &timeout}); return err }},
					{manager.OpKill, func() error { _, err := h.client.Kill(ctxT(t), id, "TERM"); return err }},
					{manager.OpDelete, func() error { _, err := h.client.Delete(ctxT(t), id, false); return err }},
					{manager.OpExec, func() error {
						_, err := h.client.Exec(ctxT(t), id, api.ExecRequest{Args: []string{"true"}})
						return err
					}},
				}
				for _, o := range ops {
					if manager.CheckOp(id, o.op, from) == nil {
						continue
					}
					refused(o.do(), "cannot "+string(o.op), "it is "+from.String())
				}
				require.Equal(t, from, h.get(id).State, "refused requests change nothing")
			})
		}
	})

	// Every driven transition was published, by the actor that made it.
	want := map[string]bool{}
	for _, s := range driven {
		want[s.String()] = true
	}
	for len(want) > 0 {
		ev, err := events.Next()
		require.NoError(t, err, "events never published: %v", want)
		if ev.Type == api.EventTransition {
			delete(want, fmt.Sprintf("%s→%s by %s", ev.From, ev.To, ev.By))
		}
	}
	events.Close()
	// The stop sent the stop signal (SIGTERM) to the shim's control socket.
	p.mu.Lock()
	defer p.mu.Unlock()
	require.Contains(t, p.calls, `/v1/signal {"signal":15}`)
}

// TestRegisterCarriesContainerPid: the state a shim registers with comes
// with its container's pid, so a READY container has one before any
// report arrives.
func TestRegisterCarriesContainerPid(t *testing.T) {
	h := newHarness(t, "none")
	p := newPlayer(t, h)
	id := p.newContainer(t)
	_, err := h.shimOf(id).Register(ctxT(t), proto.Register{ID: id, Pid: os.Getpid(), Control: h.control(id), State: proto.StateReady, ContainerPid: 4242})
	require.NoError(t, err)
	c, err := h.client.Get(ctxT(t), id)
	require.NoError(t, err)
	require.Equal(t, manager.Ready, c.State)
	require.Equal(t, 4242, c.Pid)
}

// TestRegisterCarriesReportSeq: a registration names the report its state
// comes from; that report, sent right after as the shim does, then
// changes nothing (no record is written), and an older one neither.
func TestRegisterCarriesReportSeq(t *testing.T) {
	h := newHarness(t, "none")
	p := newPlayer(t, h)
	id := p.newContainer(t)
	shim := h.shimOf(id)
	_, err := shim.Register(ctxT(t), proto.Register{ID: id, Pid: os.Getpid(), Control: h.control(id), State: proto.StateReady, ContainerPid: 4242, Seq: 2})
	require.NoError(t, err)
	registered := h.get(id)
	require.Equal(t, manager.Ready, registered.State)

	for _, seq := range []uint64{2, 1} {
		require.NoError(t, shim.Report(ctxT(t), proto.Report{ID: id, State: proto.StateReady, Pid: 4242, Seq: seq}))
		require.Equal(t, registered.Version, h.get(id).Version, "report %d is already known", seq)
	}
	require.NoError(t, shim.Report(ctxT(t), proto.Report{ID: id, State: proto.StateRunning, Pid: 4242, Seq: 3}))
	require.Equal(t, manager.Running, h.get(id).State)
}
