package shim

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"

	"cm/runtime"
	"cm/shim/proto"
)

// This file is pause, resume and update: the runtime's freezer and cgroup
// limits, asked for by the manager on the control socket.

func (s *Shim) handlePause(w http.ResponseWriter, r *http.Request) {
	s.ops.Lock()
	defer s.ops.Unlock()
	if st := s.current().State; st != proto.StateRunning {
		replyError(w, fmt.Errorf("pause: container is %s (pause needs RUNNING): %w", st, ErrWrongState))
		return
	}
	if err := runtime.Pause(s.opts.RuntimeRoot, s.opts.ID); err != nil {
		replyError(w, fmt.Errorf("pause: %w", err))
		return
	}
	s.setState(proto.StatePaused, proto.ExitStatus{})
	reply(w, http.StatusOK, struct{}{})
}

func (s *Shim) handleResume(w http.ResponseWriter, r *http.Request) {
	s.ops.Lock()
	defer s.ops.Unlock()
	if st := s.current().State; st != proto.StatePaused {
		replyError(w, fmt.Errorf("resume: container is %s (resume needs PAUSED): %w", st, ErrWrongState))
		return
	}
	if err := runtime.Resume(s.opts.RuntimeRoot, s.opts.ID); err != nil {
		replyError(w, fmt.Errorf("resume: %w", err))
		return
	}
	s.setState(proto.StateRunning, proto.ExitStatus{})
	reply(w, http.StatusOK, struct{}{})
}

// thawAfterSignal resumes a paused container after a signal was sent to
// it: a frozen process only gets its signals when thawed, and a stop or
// kill that waits for a thaw nobody asks for would never end. The
// caller holds ops.
func (s *Shim) thawAfterSignal() {
	if s.current().State != proto.StatePaused {
		return
	}
	if err := runtime.Resume(s.opts.RuntimeRoot, s.opts.ID); err != nil {
		log.Printf("thaw after signal: %v", err)
		return
	}
	s.setState(proto.StateRunning, proto.ExitStatus{})
}

// handleUpdate applies a linux.resources object, as `cmrun update -r` does.
func (s *Shim) handleUpdate(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		reply(w, http.StatusBadRequest, proto.ErrorReply{Error: fmt.Sprintf("update: read request: %v", err)})
		return
	}
	s.ops.Lock()
	defer s.ops.Unlock()
	if st := s.current().State; st == proto.StateDead {
		replyError(w, fmt.Errorf("update: container is %s: %w", st, ErrWrongState))
		return
	}
	warn := func(msg string) { log.Printf("update: warning: %s", msg) }
	if err := runtime.Update(s.opts.RuntimeRoot, s.opts.ID, bytes.NewReader(body), warn); err != nil {
		code := http.StatusBadRequest // the resources do not apply: the request is wrong
		if st := s.current().State; st == proto.StateDead {
			code = http.StatusConflict
		}
		reply(w, code, proto.ErrorReply{Error: fmt.Sprintf("update: %v", err)})
		return
	}
	reply(w, http.StatusOK, struct{}{})
}
