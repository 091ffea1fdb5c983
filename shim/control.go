package shim

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"golang.org/x/sys/unix"

	"cm/runtime"
	"cm/shim/proto"
)

// listenControl opens the control socket. Only root may use it: whoever
// can reach it can kill the container. A socket file left by a dead shim
// is replaced; one a live shim listens on is not.
func listenControl(path string) (net.Listener, error) {
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another shim is listening on it", path)
	}
	os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("chmod control socket: %w", err)
	}
	return l, nil
}

// controlHandler serves the control endpoints (see package cm/shim/proto).
func (s *Shim) controlHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+proto.PathStart, s.handleStart)
	mux.HandleFunc("POST "+proto.PathSignal, s.handleSignal)
	mux.HandleFunc("POST "+proto.PathKillAll, s.handleKillAll)
	mux.HandleFunc("POST "+proto.PathDelete, s.handleDelete)
	mux.HandleFunc("POST "+proto.PathExec, s.handleExec)
	mux.HandleFunc("POST "+proto.PathPause, s.handlePause)
	mux.HandleFunc("POST "+proto.PathResume, s.handleResume)
	mux.HandleFunc("POST "+proto.PathUpdate, s.handleUpdate)
	mux.HandleFunc("GET "+proto.PathState, func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, s.current())
	})
	return mux
}

func (s *Shim) handleStart(w http.ResponseWriter, r *http.Request) {
	s.ops.Lock()
	defer s.ops.Unlock()
	if st := s.current().State; st != proto.StateReady {
		replyError(w, fmt.Errorf("start: container is %s: %w", st, ErrWrongState))
		return
	}
	if _, err := runtime.Start(s.opts.RuntimeRoot, s.opts.ID); err != nil {
		replyError(w, fmt.Errorf("start: %w", err))
		return
	}
	// Still under ops: the reaper cannot report DEAD before this RUNNING.
	s.setState(proto.StateRunning, proto.ExitStatus{})
	s.settling.Reset(settleDelay) // start made threads and garbage of its own
	reply(w, http.StatusOK, proto.ControlReply{Pid: s.initPid})
}

func (s *Shim) handleSignal(w http.ResponseWriter, r *http.Request) {
	var req proto.SignalRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Signal < 1 || req.Signal > 64 {
		reply(w, http.StatusBadRequest, proto.ErrorReply{Error: "want {\"signal\": N} with N in 1..64"})
		return
	}
	s.kill(w, unix.Signal(req.Signal), false)
}

func (s *Shim) handleKillAll(w http.ResponseWriter, r *http.Request) {
	s.kill(w, unix.SIGKILL, true)
}

func (s *Shim) kill(w http.ResponseWriter, sig unix.Signal, all bool) {
	s.ops.Lock()
	defer s.ops.Unlock()
	if st := s.current().State; st == proto.StateDead {
		replyError(w, fmt.Errorf("signal: container is %s: %w", st, ErrWrongState))
		return
	}
	if err := runtime.Kill(s.opts.RuntimeRoot, s.opts.ID, sig, all); err != nil {
		replyError(w, err)
		return
	}
	s.thawAfterSignal()
	reply(w, http.StatusOK, struct{}{})
}

func (s *Shim) handleDelete(w http.ResponseWriter, r *http.Request) {
	var req proto.DeleteRequest
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			reply(w, http.StatusBadRequest, proto.ErrorReply{Error: "want {\"force\": bool}"})
			return
		}
	}
	s.ops.Lock()
	defer s.ops.Unlock()
	if st := s.current().State; st != proto.StateDead && !req.Force {
		replyError(w, fmt.Errorf("delete: container is %s (use force): %w", st, ErrWrongState))
		return
	}
	if err := s.removeContainer(); err != nil {
		replyError(w, err)
		return
	}
	s.keepLogs.Store(req.KeepLogs)
	log.Printf("deleted by the manager")
	reply(w, http.StatusOK, struct{}{})
	s.stop()
}

// replyError picks the status: 409 for the errors that mean "not now".
func replyError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	for _, wrong := range []error{ErrWrongState, runtime.ErrNotRunning, runtime.ErrNotCreated, runtime.ErrNoSuchProc, runtime.ErrNotStopped} {
		if errors.Is(err, wrong) {
			code = http.StatusConflict
		}
	}
	reply(w, code, proto.ErrorReply{Error: err.Error()})
}

func reply(w http.ResponseWriter, code int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(body)
}
