package shim

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"cm/runtime"
	"cm/shim/proto"
)

// Shim is one cmshim daemon and its one container.
type Shim struct {
	opts Options
	link *link

	// ops serializes everything that makes or reaps child processes: the
	// runtime's create, start and delete wait for processes they spawn
	// (hooks, the init's first stage), and the reaper's wait4(-1) would
	// steal their exit statuses if it ran meanwhile.
	ops     sync.Mutex
	initPid int // the container's init, our child (the runtime clones it with CLONE_PARENT)
	// execs are the processes run by exec, also our children: the reaper
	// hands each one's wait status to the session waiting for it.
	execs map[int]chan unix.WaitStatus

	statusMu sync.Mutex
	status   proto.Report // the latest report; also in status.json

	quit     chan struct{} // closed by delete or abort
	quitOnce sync.Once

	logDone chan struct{} // closed once the container's output is all in the log

	keepLogs atomic.Bool // delete asked to leave the log files (a restart)

	settling *time.Timer // runs settle once start-up is over; start resets it
}

// Run is the daemon: it creates the container, calls ready (with nil, or
// the error that stopped it), then serves the control socket and talks
// to the manager until the container is deleted or the manager aborts it.
func Run(o Options, ready func(error)) error {
	s := &Shim{opts: o, quit: make(chan struct{})}
	s.status = proto.Report{ID: o.ID}
	if err := o.Check(); err != nil {
		ready(err)
		return err
	}
	client := newManagerClient(o.Manager, o.Token)
	s.link = newLink(o.ID, client, s.registration, s.abort)

	// Orphans of the container (without a PID namespace) become ours to
	// reap instead of going to the host's init.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		ready(fmt.Errorf("become a child subreaper: %w", err))
		return err
	}
	ln, err := s.setUp()
	ready(err)
	if err != nil {
		return err
	}
	s.ops.Lock()
	err = s.watchExit(s.initPid)
	s.ops.Unlock()
	if err != nil {
		log.Printf("%v: the container's exit will not be noticed", err)
	}
	if samePIDNamespace(s.initPid) {
		go s.sweepOrphans()
	}
	ctx, cancel := context.WithCancel(context.Background())
	linkDone := make(chan struct{})
	go func() {
		defer close(linkDone)
		s.link.run(ctx)
	}()
	// Create and start leave garbage on both heaps and idle threads.
	// Giving them back takes milliseconds, which would delay ready and
	// start; a second after the later of the two the shim is in its
	// steady state (see settle).
	s.settling = time.AfterFunc(settleDelay, settle)
	srv := &http.Server{Handler: s.controlHandler()}
	go srv.Serve(ln)

	<-s.quit
	// Shutdown lets the request that asked us to stop get its answer.
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(shutdownCtx)
	done()
	cancel()
	<-linkDone
	select {
	case <-s.logDone: // every writer of the log pipe is gone
	case <-time.After(5 * time.Second):
		log.Printf("container output still open after delete; log may be cut short")
	}
	// Under ops no reaping is in progress, and setState does nothing once
	// quit is closed: status.json cannot come back after its removal.
	s.ops.Lock()
	defer s.ops.Unlock()
	s.removeFiles()
	return nil
}

// setUp prepares everything before ready: state directory, control
// socket and the created container. On error it undoes its work.
func (s *Shim) setUp() (_ net.Listener, err error) {
	o := s.opts
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	ln, err := listenControl(o.path(proto.ControlSocket))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	if o.Init {
		if err := addInit(o.Bundle); err != nil {
			return nil, err
		}
	}
	logs, err := openLogFile(o.path(proto.LogFile), o.LogMax)
	if err != nil {
		return nil, err
	}
	// One pipe for stdout and stderr keeps their lines in order in the log.
	r, w, err := os.Pipe()
	if err != nil {
		logs.Close()
		return nil, fmt.Errorf("create output pipe: %w", err)
	}
	s.logDone = make(chan struct{})
	go copyLog(logs, r, s.logDone)
	defer w.Close() // the container holds its own copies
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()

	rssBefore := vmRSS()
	began := time.Now()
	s.ops.Lock()
	defer s.ops.Unlock()
	c, err := runtime.Create(runtime.CreateOptions{
		SpawnOptions: runtime.SpawnOptions{
			Root: o.RuntimeRoot, ID: o.ID,
			Stdio: [3]*os.File{null, w, w},
			Warn:  func(msg string) { log.Printf("warning: %s", msg) },
		},
		BundleDir: o.Bundle,
	})
	if err != nil {
		return nil, fmt.Errorf("create container %s: %w", o.ID, err)
	}
	s.initPid = c.Pid
	s.status.Pid = c.Pid // no lock needed yet: nothing else runs before ready
	s.setState(proto.StateReady, proto.ExitStatus{})
	log.Printf("container created in %v (init pid %d); VmRSS %d kB before create, %d kB after",
		time.Since(began).Round(time.Millisecond), c.Pid, rssBefore, vmRSS())
	return ln, nil
}

// setState records a state change on disk and queues its report.
func (s *Shim) setState(st proto.State, exit proto.ExitStatus) {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	select {
	case <-s.quit:
		return // deleted or aborted: nobody is left to tell
	default:
	}
	s.status.State, s.status.ExitStatus = st, exit
	s.status.Seq++
	if err := writeStatus(s.opts.path(StatusFile), s.status); err != nil {
		log.Printf("%v", err) // the report still goes out; only a restart would miss it
	}
	s.link.push(s.status)
	log.Printf("state %s %+v", st, exit)
}

// current is the latest report.
func (s *Shim) current() proto.Report {
	s.statusMu.Lock()
	defer s.statusMu.Unlock()
	return s.status
}

// registration is what the link sends the manager at every (re)connect.
func (s *Shim) registration() proto.Register {
	st := s.current()
	reg := proto.Register{ID: s.opts.ID, Pid: os.Getpid(), Control: s.opts.path(proto.ControlSocket), State: st.State, ContainerPid: st.Pid, Seq: st.Seq}
	if st.State == proto.StateDead {
		reg.Exit = &st.ExitStatus
	}
	return reg
}

// abort is the answer to the manager's 404: nobody wants this container,
// so nothing of it may keep running.
func (s *Shim) abort(reason error) {
	log.Printf("ABORT: %v: killing the container", reason)
	s.ops.Lock()
	err := s.removeContainer()
	s.ops.Unlock()
	if err != nil {
		log.Printf("abort: %v", err)
	}
	s.stop()
}

// removeContainer kills every process of the container and deletes it
// from the runtime. The caller holds ops.
func (s *Shim) removeContainer() error {
	o := s.opts
	err := runtime.Kill(o.RuntimeRoot, o.ID, unix.SIGKILL, true)
	if err != nil && !errors.Is(err, runtime.ErrNotRunning) && !errors.Is(err, runtime.ErrNotExist) {
		return fmt.Errorf("kill container %s: %w", o.ID, err)
	}
	if err := runtime.Delete(o.RuntimeRoot, o.ID, true); err != nil && !errors.Is(err, runtime.ErrNotExist) {
		return fmt.Errorf("delete container %s: %w", o.ID, err)
	}
	return nil
}

func (s *Shim) stop() { s.quitOnce.Do(func() { close(s.quit) }) }

// removeFiles removes what the shim made in its state directory, and the
// directory if that leaves it empty: other files there (a bundle the
// manager wrote, say) are not ours to delete.
func (s *Shim) removeFiles() {
	for _, name := range []string{proto.ControlSocket, StatusFile, proto.LogFile, proto.OldLogFile, ShimLogFile} {
		if s.keepLogs.Load() && (name == proto.LogFile || name == proto.OldLogFile) {
			continue
		}
		if err := os.Remove(s.opts.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			log.Printf("clean up: %v", err)
		}
	}
	os.Remove(s.opts.StateDir)
}
