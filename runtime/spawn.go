package runtime

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"cm/nsexec"
	"cm/runtime/spec"
)

// noRseq keeps glibc from registering restartable sequences in the init.
// A seccomp profile that does not allow rseq(2) (the OCI validation
// suite's, older Docker ones) makes every thread created after the filter
// fail that registration, and glibc aborts the process then; the Go
// runtime of the init starts threads whenever a system call blocks,
// for instance while waiting on the exec fifo. The user's program gets
// process.env, not this.
const noRseq = "GLIBC_TUNABLES=glibc.pthread.rseq=0"

// spawnRequest is what differs between starting a container's init
// ("create") and a process in an existing container ("exec").
type spawnRequest struct {
	c       *Container
	stdio   [3]*os.File       // the process's stdin, stdout, stderr (nil: cmrun's own)
	cfg     initConfig        // for the Go half; ID and Pid are filled in here
	boot    *nsexec.Bootstrap // namespaces to join and create
	cg      *pendingCgroup    // the process is moved in before it runs anything
	fifo    *os.File          // O_PATH exec fifo (create only)
	console *os.File          // console socket, when process.terminal
	trace   *Trace
	warn    func(string)
	idMaps  func(stage0 int) error // writes uid/gid maps of a new user namespace
	hooks   func(pid int) error    // prestart and createRuntime hooks (create only)
}

// spawn starts "cmrun init", walks it through the nsexec stages and
// returns once its Go half reports ready.
func spawn(r spawnRequest) (*initProcess, error) {
	t := r.trace
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("init socketpair: %w", err)
	}
	parent := os.NewFile(uintptr(fds[0]), "init-parent")
	child := os.NewFile(uintptr(fds[1]), "init-child")
	defer parent.Close()
	defer child.Close()

	done := t.Step("cmrun", "read-only bind mount of the cmrun binary")
	exe, err := readonlyExe()
	done()
	if err != nil {
		return nil, err
	}
	defer exe.Close()

	// fd layout in the init: 0-2 stdio, 3.. preserved fds, then the init
	// socket, the fifo and the console socket if any, and the binary the
	// init runs from (see readonly_exe.go). initFds names them for the init.
	var extra []*os.File
	for i := 0; i < r.cfg.ExtraFds; i++ {
		extra = append(extra, os.NewFile(uintptr(firstExtraFd+i), "preserved"))
	}
	sockFd := firstExtraFd + len(extra)
	extra = append(extra, child)
	if r.fifo != nil {
		r.cfg.FifoFd = firstExtraFd + len(extra)
		extra = append(extra, r.fifo)
	}
	if r.console != nil {
		r.cfg.ConsoleFd = firstExtraFd + len(extra)
		extra = append(extra, r.console)
	}
	extra = append(extra, exe)
	cmd := &exec.Cmd{
		// Resolved in the child, where the binary's descriptor is the last one.
		Path:       fmt.Sprintf("/proc/self/fd/%d", firstExtraFd+len(extra)-1),
		Args:       []string{"cmrun", "init"},
		Env:        []string{nsexec.InitPipeEnv + "=" + strconv.Itoa(sockFd), noRseq},
		Stdin:      orDefault(r.stdio[0], os.Stdin),
		Stdout:     orDefault(r.stdio[1], os.Stdout),
		Stderr:     orDefault(r.stdio[2], os.Stderr),
		ExtraFiles: extra,
	}
	done = t.Step("cmrun", "start stage 0 (exec cmrun init from a read-only mount)")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start container init: %w", err)
	}
	done()
	child.Close()
	p := &initProcess{sock: parent}
	stage0 := cmd.Process.Pid
	reaped := false
	fail := func(err error) (*initProcess, error) {
		if !reaped {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if p.pid > 0 {
			unix.Kill(p.pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(p.pid, &ws, 0, nil)
		}
		return nil, err
	}
	if adj := r.cfg.Bundle.Spec.Process.OOMScoreAdj; adj != nil {
		// Children inherit oom_score_adj at fork, so set it on stage 0.
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", stage0), []byte(strconv.Itoa(*adj)), 0); err != nil {
			return fail(fmt.Errorf("set process.oomScoreAdj %d: %w", *adj, err))
		}
	}
	// Stage 0 moves itself into the cgroup before it joins or creates a
	// namespace, so everything it forks, the container's PID 1 included,
	// is born inside (see cgroupfs.Entry for why not r.cg.Add).
	cg, err := r.cg.wait()
	if err != nil {
		return fail(err)
	}
	r.cfg.CgroupDirs = cg.Dirs()
	boot := *r.boot
	entry := cg.Entry()
	if len(entry.Tasks) > nsexec.MaxCgroupTasks {
		return fail(fmt.Errorf("cgroup %s spans %d v1 hierarchies, more than the %d the init can join", cg.Path(), len(entry.Tasks), nsexec.MaxCgroupTasks))
	}
	boot.CgroupTasks, boot.CgroupDir = entry.Tasks, entry.Unified
	start := time.Now()
	if err := nsexec.WriteMsg(parent, nsexec.MsgBootstrap, boot.Encode()); err != nil {
		return fail(err)
	}
	for {
		typ, payload, err := nsexec.ReadMsg(parent)
		if err == io.EOF {
			return fail(r.initDied(errors.New("container init exited before it was ready")))
		}
		if err != nil {
			return fail(r.initDied(fmt.Errorf("read from container init: %w", err)))
		}
		switch typ {
		case nsexec.MsgUsermapRequest:
			if err := r.idMaps(stage0); err != nil {
				return fail(err)
			}
			if err := nsexec.WriteMsg(parent, nsexec.MsgUsermapAck, nil); err != nil {
				return fail(err)
			}
		case nsexec.MsgPid:
			var joined nsexec.CgroupJoin
			if p.pid, joined, err = nsexec.DecodePid(payload); err != nil {
				return fail(err)
			}
			cmd.Wait() // stage 0 has done its part and exits
			reaped = true
			t.Record("cmrun", start, "nsexec: join cgroup (%s), join/create namespaces (flags %#x, %d joined), clone init",
				joined, boot.CloneFlags, len(boot.NamespacePaths))
			r.cfg.Pid = p.pid
			done = t.Step("cmrun", "send config to init %d", p.pid)
			cfg := r.cfg
			cfg.BundleDir, cfg.Rootfs, cfg.Spec = cfg.Bundle.Dir, cfg.Bundle.Rootfs, initSpecOf(cfg.Bundle.Spec)
			cfg.HasSeccomp = cfg.Seccomp != nil
			data, err := json.Marshal(cfg)
			if err != nil {
				return fail(fmt.Errorf("encode init config: %w", err))
			}
			if len(data) > nsexec.MaxMessage {
				return fail(fmt.Errorf("%s: the init config made of it is %d bytes, more than the %d MiB the init reads", spec.ConfigFile, len(data), nsexec.MaxMessage>>20))
			}
			if err := nsexec.WriteMsg(parent, nsexec.MsgConfig, data); err != nil {
				return fail(err)
			}
			if cfg.HasSeccomp {
				if err := nsexec.WriteMsg(parent, nsexec.MsgSeccomp, cfg.Seccomp); err != nil {
					return fail(err)
				}
			}
			done()
		case nsexec.MsgHooks:
			if r.hooks == nil {
				return fail(errors.New("container init asked for hooks nobody runs"))
			}
			if err := r.hooks(p.pid); err != nil {
				return fail(err)
			}
			if err := nsexec.WriteMsg(parent, nsexec.MsgHooksDone, nil); err != nil {
				return fail(err)
			}
		case nsexec.MsgSeccompFd:
			done := t.Step("cmrun", "send the seccomp listener to the agent")
			err := r.sendListener(parent, p.pid, payload)
			done()
			if err != nil {
				return fail(err)
			}
		case nsexec.MsgReady:
			var ready readyMsg
			if err := json.Unmarshal(payload, &ready); err != nil {
				return fail(fmt.Errorf("decode ready message: %w", err))
			}
			t.Add(ready.Trace)
			for _, w := range ready.Warnings {
				r.warn(w)
			}
			if err := r.cg.applyLateCPU(r.warn); err != nil {
				return fail(err)
			}
			return p, nil
		case nsexec.MsgError:
			return fail(fmt.Errorf("container init: %s", payload))
		default:
			return fail(fmt.Errorf("container init sent unknown message %d", typ))
		}
	}
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

func (o CreateOptions) warn(msg string) {
	if o.Warn != nil {
		o.Warn(msg)
	}
}

func (o CreateOptions) debug(msg string) {
	if o.Debug != nil {
		o.Debug(msg)
	}
}

func orDefault(f, def *os.File) *os.File {
	if f != nil {
		return f
	}
	return def
}
