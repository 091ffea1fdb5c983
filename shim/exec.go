package shim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/manager/execstream"
	"cm/runtime"
	"cm/shim/proto"
)

// Exit codes of an exec whose process never ran, as podman and runc give
// them: 127 the program does not exist, 126 it cannot be run, 255 any
// other failure to start it (runc exec's code).
const (
	execNotFound   = 127
	execCannotRun  = 126
	execFailedCode = 255
)

// handleExec runs another process in the RUNNING container and streams
// its stdio over the upgraded connection (see package cm/shim/proto).
func (s *Shim) handleExec(w http.ResponseWriter, r *http.Request) {
	var req execstream.Request
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		reply(w, http.StatusBadRequest, proto.ErrorReply{Error: fmt.Sprintf("exec: want a JSON request: %v", err)})
		return
	}
	if err := req.Check(); err != nil {
		reply(w, http.StatusBadRequest, proto.ErrorReply{Error: "exec: " + err.Error()})
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), execstream.Upgrade) {
		reply(w, http.StatusBadRequest, proto.ErrorReply{Error: "exec: want the headers Connection: Upgrade and Upgrade: " + execstream.Upgrade})
		return
	}
	if st := s.current().State; st != proto.StateRunning {
		replyError(w, fmt.Errorf("exec: container is %s, not RUNNING: %w", st, ErrWrongState))
		return
	}
	c, err := runtime.Load(s.opts.RuntimeRoot, s.opts.ID)
	if err != nil {
		replyError(w, fmt.Errorf("exec: %w", err))
		return
	}
	proc, err := execProcess(c.Config.Process, &req)
	if err != nil {
		reply(w, http.StatusBadRequest, proto.ErrorReply{Error: "exec: " + err.Error()})
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		replyError(w, fmt.Errorf("exec: take over the connection: %w", err))
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Time{})
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + execstream.Upgrade + "\r\n\r\n")
	if err := brw.Flush(); err != nil {
		return
	}
	sess := &execSession{s: s, req: &req, in: brw.Reader, out: execstream.NewWriter(conn)}
	code := sess.run(proc)
	sess.out.WriteExit(code)
}

// execProcess is the container's own process with what the request
// changes: the container's environment, user, capabilities and limits
// carry over, as in podman exec.
func execProcess(base *specs.Process, req *execstream.Request) (*specs.Process, error) {
	if base == nil {
		return nil, errors.New("the container's config has no process")
	}
	p := *base
	p.Args = req.Args
	p.Terminal = req.Tty
	p.ConsoleSize = nil
	if req.Tty && req.Rows > 0 && req.Cols > 0 {
		p.ConsoleSize = &specs.Box{Height: uint(req.Rows), Width: uint(req.Cols)}
	}
	p.Env = mergeEnv(base.Env, req.Env)
	if req.Cwd != "" {
		p.Cwd = req.Cwd
	}
	if req.User != "" {
		uid, gid, err := req.IDs()
		if err != nil {
			return nil, err
		}
		p.User = specs.User{UID: uint32(uid), GID: base.User.GID}
		if gid >= 0 {
			p.User.GID = uint32(gid)
		}
	}
	return &p, nil
}

// mergeEnv adds the request's variables, replacing those of the same name.
func mergeEnv(base, add []string) []string {
	out := make([]string, 0, len(base)+len(add))
	index := map[string]int{}
	for _, kv := range append(append([]string(nil), base...), add...) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := index[k]; ok {
			out[i] = kv
			continue
		}
		index[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// execSession is one exec: the process and the connection of its client.
type execSession struct {
	s   *Shim
	req *execstream.Request
	in  *bufio.Reader // the client's frames
	out *execstream.Writer

	stdin  *os.File // our end of the process's stdin, or the pty master
	master *os.File // the pty master with a terminal
	// exited gets the process's wait status from the reaper.
	exited chan unix.WaitStatus
}

// run starts the process, streams its stdio and returns its exit code.
func (x *execSession) run(proc *specs.Process) int {
	x.exited = make(chan unix.WaitStatus, 1)
	pid, outputs, err := x.start(proc)
	if err != nil {
		log.Printf("exec %q: %v", proc.Args[0], err)
		x.out.Write(execstream.Error, []byte(err.Error()))
		return startFailureCode(err)
	}
	gone := make(chan struct{})
	go x.readInput(gone)

	var ws unix.WaitStatus
	select {
	case ws = <-x.exited:
	case <-gone:
		x.killIfRunning(pid)
		ws = <-x.exited
	}
	// Output still in a pipe (or held by a child the process left behind)
	// gets a short grace, as the init's does.
	deadline := time.After(outputGrace)
wait:
	for _, done := range outputs {
		select {
		case <-done:
		case <-deadline:
			break wait
		}
	}
	if x.stdin != nil {
		x.stdin.Close()
	}
	if x.master != nil {
		x.master.Close()
	}
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	log.Printf("exec %q: pid %d exited with code %d", proc.Args[0], pid, code)
	return code
}

// start spawns the process with pipes or a terminal for its stdio, and
// starts copying its output. Each returned channel closes when one output
// stream has reached its end.
func (x *execSession) start(proc *specs.Process) (int, []chan struct{}, error) {
	var stdio [3]*os.File
	var theirs []*os.File // the process's ends, closed here once it has them
	defer func() {
		for _, f := range theirs {
			f.Close()
		}
	}()
	var local, console *os.File
	if proc.Terminal {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return 0, nil, fmt.Errorf("console socketpair: %w", err)
		}
		local, console = os.NewFile(uintptr(fds[0]), "console-local"), os.NewFile(uintptr(fds[1]), "console-remote")
		defer local.Close()
		defer console.Close() // Exec closes it once sent; this is for when it fails first
	} else {
		null, err := os.Open(os.DevNull)
		if err != nil {
			return 0, nil, err
		}
		theirs = append(theirs, null)
		stdio[0] = null
		if x.req.Stdin {
			r, w, err := os.Pipe()
			if err != nil {
				return 0, nil, err
			}
			theirs = append(theirs, r)
			stdio[0], x.stdin = r, w
		}
	}
	var outputs []chan struct{}
	var readers []*os.File
	if !proc.Terminal {
		for i := 1; i <= 2; i++ {
			r, w, err := os.Pipe()
			if err != nil {
				closeAll(readers)
				return 0, nil, err
			}
			theirs = append(theirs, w)
			stdio[i] = w
			readers = append(readers, r)
		}
	}
	pid := 0
	s := x.s
	s.ops.Lock()
	_, err := runtime.Exec(runtime.ExecOptions{
		SpawnOptions: runtime.SpawnOptions{
			Root: s.opts.RuntimeRoot, ID: s.opts.ID, Stdio: stdio,
			Warn: func(msg string) { log.Printf("exec: warning: %s", msg) },
		},
		Process: proc, Detach: true, Console: console,
		OnSpawn: func(p int) {
			pid = p
			if s.execs == nil {
				s.execs = map[int]chan unix.WaitStatus{}
			}
			// Registered under ops, before the reaper can see it exit.
			s.execs[p] = x.exited
			if err := s.watchExit(p); err != nil {
				log.Printf("exec: %v: its exit will only be noticed with the container's", err)
			}
		},
	})
	s.ops.Unlock()
	if err != nil {
		closeAll(readers)
		if x.stdin != nil {
			x.stdin.Close()
		}
		return 0, nil, err
	}
	if proc.Terminal {
		master, err := receiveMaster(local)
		if err != nil {
			x.killIfRunning(pid)
			return 0, nil, err
		}
		x.master, x.stdin = master, master
		readers = []*os.File{master}
	}
	for i, r := range readers {
		done := make(chan struct{})
		kind := execstream.Stdout
		if i == 1 {
			kind = execstream.Stderr
		}
		go func() {
			defer close(done)
			io.Copy(x.out.Stream(kind), r) // a pty master ends with EIO
			if !proc.Terminal {
				r.Close()
			}
		}()
		outputs = append(outputs, done)
	}
	return pid, outputs, nil
}

// readInput applies the client's frames until the connection ends, then
// closes gone.
func (x *execSession) readInput(gone chan<- struct{}) {
	defer close(gone)
	for {
		k, p, err := execstream.Read(x.in)
		if err != nil {
			return
		}
		switch k {
		case execstream.Stdin:
			if x.stdin != nil {
				x.stdin.Write(p)
			}
		case execstream.CloseStdin:
			if x.stdin != nil && x.master == nil {
				x.stdin.Close()
			}
		case execstream.Resize:
			rows, cols, err := execstream.Size(p)
			if err == nil && x.master != nil {
				unix.IoctlSetWinsize(int(x.master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
			}
		}
	}
}

// killIfRunning kills the process unless the reaper has collected it: the
// check and the kill are under ops, so the pid cannot have been reused.
func (x *execSession) killIfRunning(pid int) {
	x.s.ops.Lock()
	defer x.s.ops.Unlock()
	if _, ok := x.s.execs[pid]; ok {
		unix.Kill(pid, unix.SIGKILL)
	}
}

// receiveMaster takes the pty master the process's init sent on the
// console socket.
func receiveMaster(sock *os.File) (*os.File, error) {
	buf := make([]byte, 64)
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
	if err != nil {
		return nil, fmt.Errorf("receive pty master: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive pty master: no descriptor in the message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("receive pty master: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// startFailureCode is the exit code for a process that did not start.
func startFailureCode(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return execNotFound
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"):
		return execCannotRun
	}
	return execFailedCode
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
