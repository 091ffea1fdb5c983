package shim_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/shim/proto"
)

// fakeManager speaks the manager's side of the shim protocol on a Unix
// socket and records what it hears. It can be stopped and started again
// on the same path, like a manager that restarts, and told to forget
// the container (answer 404).
type fakeManager struct {
	t        *testing.T
	path     string
	interval time.Duration

	mu         sync.Mutex
	srv        *httptest.Server
	registers  []proto.Register
	reports    []proto.Report
	heartbeats int
	auths      []string      // the Authorization header of every message
	unknown    bool          // answer 404 "unknown container" to everything
	beat       time.Duration // the interval a heartbeat's answer names; 0: an empty answer, as an older manager gives
	said       time.Duration // the interval the last heartbeat said the shim beats at
}

func newFakeManager(t *testing.T, dir string, interval time.Duration) *fakeManager {
	m := &fakeManager{t: t, path: dir + "/manager.sock", interval: interval}
	m.start()
	t.Cleanup(m.stop)
	return m
}

func (m *fakeManager) start() {
	os.Remove(m.path)
	ln, err := net.Listen("unix", m.path)
	require.NoError(m.t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+proto.PathRegister, func(w http.ResponseWriter, r *http.Request) {
		var reg proto.Register
		if m.decode(w, r, &reg) {
			m.registers = append(m.registers, reg)
			m.answer(w, proto.RegisterReply{HeartbeatInterval: proto.Interval(m.interval)})
		}
	})
	mux.HandleFunc("POST "+proto.PathReport, func(w http.ResponseWriter, r *http.Request) {
		var rep proto.Report
		if m.decode(w, r, &rep) {
			m.reports = append(m.reports, rep)
			m.answer(w, struct{}{})
		}
	})
	mux.HandleFunc("POST "+proto.PathHeartbeat, func(w http.ResponseWriter, r *http.Request) {
		var hb proto.Heartbeat
		if m.decode(w, r, &hb) {
			m.heartbeats++
			m.said = time.Duration(hb.Interval)
			if m.beat == 0 {
				m.mu.Unlock()
				return // 200 with no body
			}
			m.answer(w, proto.HeartbeatReply{HeartbeatInterval: proto.Interval(m.beat)})
		}
	})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	m.mu.Lock()
	m.srv = srv
	m.mu.Unlock()
}

// decode reads a request body; it answers 404 and returns false if the
// manager is told not to know the container. It returns with m.mu held
// when it returns true (answer releases it).
func (m *fakeManager) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		m.t.Errorf("fake manager: bad request to %s: %v", r.URL.Path, err)
		w.WriteHeader(http.StatusBadRequest)
		return false
	}
	m.mu.Lock()
	m.auths = append(m.auths, r.Header.Get("Authorization"))
	if m.unknown {
		m.mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(proto.ErrorReply{Error: "unknown container"})
		return false
	}
	return true
}

func (m *fakeManager) answer(w http.ResponseWriter, v any) {
	m.mu.Unlock()
	json.NewEncoder(w).Encode(v)
}

// stop closes the listener and every connection: the manager is gone.
func (m *fakeManager) stop() {
	m.mu.Lock()
	srv := m.srv
	m.srv = nil
	m.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

func (m *fakeManager) setUnknown(unknown bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.unknown = unknown
}

// setBeat makes heartbeat answers name interval (0: answer with no body).
func (m *fakeManager) setBeat(interval time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.beat = interval
}

// saidInterval is the interval the last heartbeat said the shim beats at.
func (m *fakeManager) saidInterval() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.said
}

// snapshot returns copies of what was heard so far.
func (m *fakeManager) snapshot() (regs []proto.Register, reps []proto.Report, heartbeats int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append(regs, m.registers...), append(reps, m.reports...), m.heartbeats
}

// waitReport waits for a report of state st and returns the first one.
func (m *fakeManager) waitReport(st proto.State) proto.Report {
	m.t.Helper()
	var found proto.Report
	require.Eventually(m.t, func() bool {
		_, reps, _ := m.snapshot()
		for _, r := range reps {
			if r.State == st {
				found = r
				return true
			}
		}
		return false
	}, waitLong, tick, "no %s report", st)
	return found
}

// states lists the states reported, duplicates (re-sent reports) dropped
// by seq as a real manager would.
func (m *fakeManager) states() []proto.State {
	_, reps, _ := m.snapshot()
	var out []proto.State
	var seen uint64
	for _, r := range reps {
		if r.Seq > seen {
			out = append(out, r.State)
			seen = r.Seq
		}
	}
	return out
}
