// Package shimtest is a fake cmshim for tests. It speaks the real shim
// protocol (package cm/shim/proto) to a real daemon over its shim socket, and serves
// the real control endpoint on its own socket, but runs no container: the
// "workload" is a tiny script read from the bundle's process.args:
//
//	exit N        runs, and exits with code N right after start
//	ignore-term   runs until SIGKILL; other signals are logged and ignored
//	fail          never becomes READY: reports DEAD with code 127
//	anything else runs until a signal kills it (exit code 128+signal)
//
// It writes a line per event to <state-dir>/container.log, as a shim writes
// a container's output. It never touches the runtime, cgroups or
// namespaces. Command fakeshim wraps it in cmshim's command line.
package shimtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/manager"
	"cm/manager/api"
	"cm/shim/proto"
)

// Config is what cmshim gets on its command line.
type Config struct {
	ID       string
	Bundle   string // holds config.json
	StateDir string // control socket and container.log go here
	Manager  string // the daemon's shim socket
	Token    string // sent with every message, as cmshim does
}

// Shim is one running fake shim.
type Shim struct {
	cfg     Config
	args    []string
	mgr     *api.Client
	control string
	srv     *http.Server
	logFile *os.File

	mu        sync.Mutex
	state     manager.State
	exit      proto.ExitStatus
	seq       uint64
	last      proto.Report   // re-sent after every (re-)registration
	pending   []proto.Report // made while not connected: sent in order once connected
	interval  time.Duration
	connected bool // registered since the manager was last unreachable

	sendMu sync.Mutex // keeps reports in order

	silent     atomic.Bool
	aborted    atomic.Bool
	heartbeats atomic.Int64
	done       chan struct{}
	closeOnce  sync.Once
}

// Start listens on the control socket and begins talking to the manager in
// the background, as cmshim does once it is ready.
func Start(cfg Config) (*Shim, error) {
	args, err := readArgs(cfg.Bundle)
	if err != nil {
		return nil, err
	}
	s := &Shim{cfg: cfg, args: args, mgr: api.NewShimClient(cfg.Manager, cfg.Token), control: filepath.Join(cfg.StateDir, proto.ControlSocket),
		interval: 50 * time.Millisecond, done: make(chan struct{})}
	if s.logFile, err = os.OpenFile(filepath.Join(cfg.StateDir, proto.LogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err != nil {
		return nil, fmt.Errorf("fake shim %s: %w", cfg.ID, err)
	}
	os.Remove(s.control)
	ln, err := net.Listen("unix", s.control)
	if err != nil {
		s.logFile.Close()
		return nil, fmt.Errorf("fake shim %s: %w", cfg.ID, err)
	}
	os.Chmod(s.control, 0o600)
	s.srv = &http.Server{Handler: s.routes()}
	go s.srv.Serve(ln)

	if s.script() == "fail" {
		s.state, s.exit = manager.Dead, proto.ExitStatus{ExitCode: 127}
		s.logf("fake workload %v: cannot be created", args)
	} else {
		s.state = manager.Ready
		s.logf("fake workload %v: created", args)
	}
	s.seq = 1
	s.last = s.reportLocked()
	s.pending = []proto.Report{s.last}
	go s.run()
	return s, nil
}

func readArgs(bundle string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("fake shim: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("fake shim: config.json: %w", err)
	}
	if spec.Process == nil || len(spec.Process.Args) == 0 {
		return nil, errors.New("fake shim: config.json has no process.args")
	}
	return spec.Process.Args, nil
}

func (s *Shim) script() string { return s.args[0] }

func (s *Shim) logf(format string, args ...any) {
	fmt.Fprintf(s.logFile, format+"\n", args...)
}

// wireState is a state as the shim protocol spells it.
func wireState(st manager.State) proto.State { return proto.State(st.String()) }

// reportLocked describes the current state; s.mu is held.
func (s *Shim) reportLocked() proto.Report {
	return proto.Report{ID: s.cfg.ID, State: wireState(s.state), Pid: os.Getpid(), Seq: s.seq, ExitStatus: s.exit}
}

// run registers, then sends a heartbeat every interval; when the manager
// is unreachable it retries and registers again once it is back.
func (s *Shim) run() {
	for {
		err := s.sync()
		if api.StatusOf(err) == http.StatusNotFound {
			s.abort()
			return
		}
		s.mu.Lock()
		if err != nil {
			s.connected = false
		}
		wait := s.interval
		s.mu.Unlock()
		select {
		case <-s.done:
			return
		case <-time.After(wait):
		}
	}
}

// sync tells the manager what it should hear now: everything, after a
// (re)connection; else that the shim is alive.
func (s *Shim) sync() error {
	if _, err := os.Stat(s.cfg.StateDir); err != nil {
		return &api.Error{Status: http.StatusNotFound, Message: "state directory gone"} // the test is over
	}
	if s.silent.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.mu.Lock()
	connected := s.connected
	s.mu.Unlock()
	if connected {
		s.heartbeats.Add(1)
		return s.mgr.Heartbeat(ctx, s.cfg.ID)
	}
	s.sendMu.Lock()
	s.mu.Lock()
	req := proto.Register{ID: s.cfg.ID, Pid: os.Getpid(), Control: s.control, State: wireState(s.state), ContainerPid: os.Getpid()}
	if s.state == manager.Dead {
		exit := s.exit
		req.Exit = &exit
	}
	s.mu.Unlock()
	resp, err := s.mgr.Register(ctx, req)
	if err == nil {
		s.mu.Lock()
		s.interval = time.Duration(resp.HeartbeatInterval)
		s.connected = true
		if len(s.pending) == 0 {
			s.pending = []proto.Report{s.last} // re-sent: the manager may have lost it
		}
		s.mu.Unlock()
	}
	s.sendMu.Unlock()
	if err != nil {
		return err
	}
	return s.flush()
}

// flush sends the reports held back, in order, while connected.
func (s *Shim) flush() error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	for {
		s.mu.Lock()
		if !s.connected || s.silent.Load() || len(s.pending) == 0 {
			s.mu.Unlock()
			return nil
		}
		r := s.pending[0]
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.mgr.Report(ctx, r)
		cancel()
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.pending = s.pending[1:]
		s.mu.Unlock()
	}
}

// change moves the fake workload to state and reports it.
func (s *Shim) change(state manager.State, exit proto.ExitStatus) {
	s.mu.Lock()
	if s.state == manager.Dead {
		s.mu.Unlock()
		return
	}
	s.state, s.exit = state, exit
	s.seq++
	s.last = s.reportLocked()
	s.pending = append(s.pending, s.last)
	s.mu.Unlock()
	if state == manager.Dead {
		s.logf("exited with code %d (signal %d)", exit.ExitCode, exit.Signal)
	}
	err := s.flush()
	if api.StatusOf(err) == http.StatusNotFound {
		go s.abort()
	} else if err != nil {
		s.mu.Lock()
		s.connected = false
		s.mu.Unlock()
	}
}

func (s *Shim) die(sig syscall.Signal) {
	s.change(manager.Dead, proto.ExitStatus{ExitCode: 128 + int(sig), Signal: int(sig)})
}

// abort is what a shim does when the manager does not know its container:
// kill the workload, clean up, exit.
func (s *Shim) abort() {
	s.aborted.Store(true)
	s.mu.Lock()
	s.state = manager.Dead
	s.mu.Unlock()
	s.Close()
}

// Close stops the shim without a word to the manager, as if it crashed.
func (s *Shim) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.srv.Close()
		os.Remove(s.control)
		s.logFile.Close()
	})
}

// SetSilent stops (true) or resumes (false) every message to the manager,
// as a hung shim would.
func (s *Shim) SetSilent(silent bool) { s.silent.Store(silent) }

// Done is closed when the shim has stopped (aborted, deleted or closed).
func (s *Shim) Done() <-chan struct{} { return s.done }

// Aborted reports whether the manager told the shim it does not know the container.
func (s *Shim) Aborted() bool { return s.aborted.Load() }

// Heartbeats counts the heartbeats sent.
func (s *Shim) Heartbeats() int64 { return s.heartbeats.Load() }

// State is the fake workload's state as the shim sees it.
func (s *Shim) State() manager.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// routes is the control endpoint, as package proto documents it.
func (s *Shim) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+proto.PathStart, s.handleStart)
	mux.HandleFunc("POST "+proto.PathSignal, s.handleSignal)
	mux.HandleFunc("POST "+proto.PathKillAll, func(w http.ResponseWriter, r *http.Request) {
		s.die(syscall.SIGKILL)
		reply(w, http.StatusOK, struct{}{})
	})
	mux.HandleFunc("POST "+proto.PathDelete, func(w http.ResponseWriter, r *http.Request) {
		var req proto.DeleteRequest
		json.NewDecoder(r.Body).Decode(&req)
		if st := s.State(); st != manager.Dead && !req.Force {
			reply(w, http.StatusConflict, proto.ErrorReply{Error: fmt.Sprintf("container is %s; delete it with force", st)})
			return
		}
		s.die(syscall.SIGKILL)
		reply(w, http.StatusOK, struct{}{})
		go s.Close()
	})
	mux.HandleFunc("POST "+proto.PathPause, s.pauseOrResume(manager.Running, manager.Paused))
	mux.HandleFunc("POST "+proto.PathResume, s.pauseOrResume(manager.Paused, manager.Running))
	mux.HandleFunc("POST "+proto.PathUpdate, func(w http.ResponseWriter, r *http.Request) {
		if st := s.State(); st == manager.Dead {
			reply(w, http.StatusConflict, proto.ErrorReply{Error: "container is not running"})
			return
		}
		data, _ := io.ReadAll(r.Body)
		s.logf("update %s", bytes.TrimSpace(data))
		reply(w, http.StatusOK, struct{}{})
	})
	return mux
}

// pauseOrResume moves the fake workload from one state to the other, as
// the real shim's freezer does.
func (s *Shim) pauseOrResume(from, to manager.State) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if st := s.State(); st != from {
			reply(w, http.StatusConflict, proto.ErrorReply{Error: fmt.Sprintf("container is %s, not %s", st, from)})
			return
		}
		s.logf("%s", to)
		s.change(to, proto.ExitStatus{})
		reply(w, http.StatusOK, struct{}{})
	}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Shim) handleStart(w http.ResponseWriter, r *http.Request) {
	if st := s.State(); st != manager.Ready {
		reply(w, http.StatusConflict, proto.ErrorReply{Error: fmt.Sprintf("container is %s, not READY", st)})
		return
	}
	s.logf("started")
	s.change(manager.Running, proto.ExitStatus{})
	if s.script() == "exit" && len(s.args) > 1 {
		code, _ := strconv.Atoi(s.args[1])
		go s.change(manager.Dead, proto.ExitStatus{ExitCode: code})
	}
	reply(w, http.StatusOK, struct{}{})
}

func (s *Shim) handleSignal(w http.ResponseWriter, r *http.Request) {
	var req proto.SignalRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Signal <= 0 {
		reply(w, http.StatusBadRequest, proto.ErrorReply{Error: "signal: want a positive number"})
		return
	}
	if st := s.State(); st == manager.Dead {
		reply(w, http.StatusConflict, proto.ErrorReply{Error: "container is not running"})
		return
	}
	sig := syscall.Signal(req.Signal)
	s.logf("got signal %d", sig)
	if s.script() == "ignore-term" && sig != syscall.SIGKILL {
		reply(w, http.StatusOK, struct{}{})
		return
	}
	s.die(sig)
	reply(w, http.StatusOK, struct{}{})
}
