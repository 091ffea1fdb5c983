package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"cm/nsexec"
	"cm/runtime/namespace"
)

// noRseq keeps glibc from registering restartable sequences in the init.
// A seccomp profile that does not allow rseq(2) (the OCI validation
// suite's, older Docker ones) makes every thread created after the filter
// fail that registration, and glibc aborts the process then; the Go
// runtime of the init starts threads whenever a system call blocks,
// for instance while waiting on the exec fifo. The user's program gets
// process.env, not this. (musl registers none; this is for a build that
// fell back to glibc.)
const noRseq = "GLIBC_TUNABLES=glibc.pthread.rseq=0"

// spawnRequest is what spawn needs to start either init: the container's
// first process ("create", standardParent) or another process in it
// ("exec", setnsParent).
type spawnRequest struct {
	c       *Container
	stdio   [3]*os.File       // the process's stdin, stdout, stderr (nil: cmrun's own)
	cfg     initConfig        // for the Go half; Pid, CgroupDirs and the fds are filled in here
	boot    *nsexec.Bootstrap // namespaces to join and create
	cg      *pendingCgroup    // the process is moved in before it runs anything
	console *os.File          // console socket, when process.terminal
	trace   *Trace
	warn    func(string)
	parent  initParent // the parent's part of this kind of init
}

// initParent is what the parent does differently for the two inits.
type initParent interface {
	// files are the descriptors the init gets right after its socket,
	// from fd first on; their numbers go into cfg.
	files(cfg *initConfig, first int) []*os.File
	// writeIDMaps writes the uid/gid maps of stage 0's new user namespace.
	writeIDMaps(stage0 int) error
	// runHooks runs the hooks the init asks for (msgHooks) with pid its pid.
	runHooks(pid int) error
	// agentStatus is the container's status and pid as a seccomp agent
	// is told them, for the process pid being started.
	agentStatus(pid int) (specs.ContainerState, int)
}

// initProcess is the parent's handle on the container init.
type initProcess struct {
	pid  int
	sock *os.File
}

// spawning is one spawn under way.
type spawning struct {
	spawnRequest
	sock   *os.File         // the parent's end of the init socket
	stage0 int              // pid of "cmrun init" as started, until it exits
	reaped bool             // stage 0 was waited for
	pid    int              // the init, once stage 0 reported it
	sent   nsexec.Bootstrap // the bootstrap, with the cgroup filled in
	start  time.Time        // when the bootstrap went out
}

// spawn starts "cmrun init", walks it through the nsexec stages and the
// init protocol (initproto.go) and returns once its Go half reports ready.
func spawn(r spawnRequest) (*initProcess, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("init socketpair: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "init-parent")
	child := os.NewFile(uintptr(fds[1]), "init-child")
	defer parent.Close()
	defer child.Close()
	stage0, err := startStage0(&r, child)
	if err != nil {
		return nil, err
	}
	child.Close()
	s := &spawning{spawnRequest: r, sock: parent, stage0: stage0}
	if err := s.bootstrap(); err != nil {
		return nil, s.fail(err)
	}
	for {
		typ, payload, err := nsexec.ReadMsg(parent)
		if err == io.EOF {
			return nil, s.fail(r.initDied(errors.New("container init exited before it was ready")))
		}
		if err != nil {
			return nil, s.fail(r.initDied(fmt.Errorf("read from container init: %w", err)))
		}
		ready, err := s.handle(typ, payload)
		if err != nil {
			return nil, s.fail(err)
		}
		if ready {
			return &initProcess{pid: s.pid, sock: parent}, nil
		}
	}
}

// startStage0 starts "cmrun init" with the init's end of the socket and
// returns its pid. It forks with syscall.ForkExec rather than os/exec,
// whose first start in a process forks and reaps one more child to find
// out whether clone(CLONE_PIDFD) works; stage 0 is waited for by pid.
func startStage0(r *spawnRequest, child *os.File) (int, error) {
	t := r.trace
	done := t.Step("cmrun", "read-only bind mount of the cmrun binary")
	exe, err := readonlyExe()
	done()
	if err != nil {
		return 0, err
	}
	defer exe.Close()

	// The fd layout initproto.go describes, which cfg names for the init.
	files := []*os.File{orDefault(r.stdio[0], os.Stdin), orDefault(r.stdio[1], os.Stdout), orDefault(r.stdio[2], os.Stderr)}
	for i := 0; i < r.cfg.ExtraFds; i++ {
		files = append(files, os.NewFile(uintptr(firstExtraFd+i), "preserved"))
	}
	sockFd := len(files)
	files = append(files, child)
	files = append(files, r.parent.files(&r.cfg, len(files))...)
	if r.console != nil {
		r.cfg.ConsoleFd = len(files)
		files = append(files, r.console)
	}
	files = append(files, exe)
	fds := make([]uintptr, len(files))
	for i, f := range files {
		fds[i] = f.Fd()
	}
	// Resolved in the child, where the binary's descriptor is the last one.
	path := fmt.Sprintf("/proc/self/fd/%d", len(files)-1)
	env := []string{nsexec.InitPipeEnv + "=" + strconv.Itoa(sockFd), noRseq}
	done = t.Step("cmrun", "start stage 0 (exec cmrun init from a read-only mount)")
	var pid int
	err = nsexec.ForkWithHostScheduling(func() (err error) {
		pid, err = syscall.ForkExec(path, []string{"cmrun", "init"}, &syscall.ProcAttr{Env: env, Files: fds})
		return err
	})
	runtime.KeepAlive(files)
	if err != nil {
		return 0, fmt.Errorf("start container init: %w", err)
	}
	done()
	return pid, nil
}

// fail kills whatever of the init exists and returns err.
func (s *spawning) fail(err error) error {
	if !s.reaped {
		unix.Kill(s.stage0, unix.SIGKILL)
		reap(s.stage0)
	}
	if s.pid > 0 {
		unix.Kill(s.pid, unix.SIGKILL)
		reap(s.pid)
	}
	return err
}

// reap waits for our child pid to exit.
func reap(pid int) {
	var ws unix.WaitStatus
	for {
		if _, err := unix.Wait4(pid, &ws, 0, nil); !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// bootstrap gives stage 0 what it inherits and needs before it forks:
// the oom score, its cgroup, and the namespaces (MsgBootstrap).
func (s *spawning) bootstrap() error {
	stage0 := s.stage0
	if adj := s.cfg.Bundle.Spec.Process.OOMScoreAdj; adj != nil {
		// Children inherit oom_score_adj at fork, so set it on stage 0.
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", stage0), []byte(strconv.Itoa(*adj)), 0); err != nil {
			return fmt.Errorf("set process.oomScoreAdj %d: %w", *adj, err)
		}
	}
	// Stage 0 moves itself into the cgroup before it joins a namespace,
	// so everything it forks, the container's PID 1 included, is born
	// inside (see cgroupfs.Entry for why not s.cg.Add). Without a user
	// namespace it need not wait for the cgroup to exist to create its
	// namespaces: it gets the paths now and MsgCgroupReady once the cgroup
	// is made (see nsexec.Bootstrap.CgroupPending).
	pending := s.cg.creating && !namespace.Has(s.cfg.Bundle.Spec, specs.UserNamespace)
	var cg cgroup
	if pending {
		cg = s.cg.location()
	}
	if cg == nil {
		var err error
		if cg, err = s.cg.wait(); err != nil {
			return err
		}
		pending = false
	}
	s.cfg.CgroupDirs = cg.Dirs()
	s.sent = *s.boot
	entry := cg.Entry()
	if len(entry.Tasks) > nsexec.MaxCgroupTasks {
		return fmt.Errorf("cgroup %s spans %d v1 hierarchies, more than the %d the init can join", cg.Path(), len(entry.Tasks), nsexec.MaxCgroupTasks)
	}
	s.sent.CgroupTasks, s.sent.CgroupDir = entry.Tasks, entry.Unified
	s.sent.CgroupPending = pending
	s.start = time.Now()
	if err := nsexec.WriteMsg(s.sock, nsexec.MsgBootstrap, s.sent.Encode()); err != nil || !pending {
		return err
	}
	if _, err := s.cg.wait(); err != nil {
		return err
	}
	if err := nsexec.WriteMsg(s.sock, nsexec.MsgCgroupReady, nil); err != nil {
		// Stage 0 failed to create its namespaces meanwhile, and its
		// reason waits on the socket.
		if typ, payload, rerr := nsexec.ReadMsg(s.sock); rerr == nil && typ == nsexec.MsgError {
			_, err = s.handle(typ, payload)
		}
		return err
	}
	return nil
}

// handle answers one message from stage 0 or the init; ready is true
// once the init reported ready.
func (s *spawning) handle(typ nsexec.MsgType, payload []byte) (ready bool, _ error) {
	t := s.trace
	switch typ {
	case nsexec.MsgUsermapRequest:
		if err := s.parent.writeIDMaps(s.stage0); err != nil {
			return false, err
		}
		return false, nsexec.WriteMsg(s.sock, nsexec.MsgUsermapAck, nil)
	case nsexec.MsgPid:
		var joined nsexec.CgroupJoin
		var err error
		if s.pid, joined, err = nsexec.DecodePid(payload); err != nil {
			return false, err
		}
		reap(s.stage0) // stage 0 has done its part and exits
		s.reaped = true
		created := ""
		if s.sent.CgroupPending {
			created = "; the new ones while the cgroup was made"
		}
		t.Record("cmrun", s.start, "nsexec: join cgroup (%s), join/create namespaces (flags %#x, %d joined%s), clone init",
			joined, s.sent.CloneFlags, len(s.sent.NamespacePaths), created)
		s.cfg.Pid = s.pid
		done := t.Step("cmrun", "send config to init %d", s.pid)
		err = sendConfig(s.sock, s.cfg)
		if err == nil {
			done()
		}
		return false, err
	case msgHooks:
		if err := s.parent.runHooks(s.pid); err != nil {
			return false, err
		}
		return false, nsexec.WriteMsg(s.sock, msgHooksDone, nil)
	case msgSeccompFd:
		done := t.Step("cmrun", "send the seccomp listener to the agent")
		err := s.sendListener(s.sock, s.pid, payload)
		done()
		return false, err
	case msgReady:
		var ready readyMsg
		if err := json.Unmarshal(payload, &ready); err != nil {
			return false, fmt.Errorf("decode ready message: %w", err)
		}
		t.Add(ready.Trace)
		for _, w := range ready.Warnings {
			s.warn(w)
		}
		return true, s.cg.applyLateCPU(s.warn)
	case nsexec.MsgError:
		return false, fmt.Errorf("container init: %s", payload)
	}
	return false, fmt.Errorf("container init sent unknown message %d", typ)
}

// initDied adds the likeliest cause to an init that died without a word:
// a pids limit too low for the init itself, a Go program that starts a
// few threads before the user's program replaces it.
func (r spawnRequest) initDied(err error) error {
	res := r.cfg.Bundle.Spec.Linux.Resources
	if res == nil || res.Pids == nil || res.Pids.Limit == nil {
		return err
	}
	if l := *res.Pids.Limit; l >= 0 && l < pidsHintBelow {
		return fmt.Errorf("%w (is linux.resources.pids.limit %d too low? the init needs a few threads of its own)", err, l)
	}
	return err
}

// pidsHintBelow: the init has used up to 7 tasks here; below twice that a
// pids limit is a suspect when it dies.
const pidsHintBelow = 16

func orDefault(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}
