package shim

import (
	"bufio"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"cm/nsexec"
	"cm/shim/proto"
)

// Daemonize starts the daemon: this binary again, as "cmshim --ready-fd 3"
// with the same arguments (and o.Token on a pipe, --token-fd 4; a later
// flag wins over an earlier one), in a session of its own, so it is nobody's
// child to reap once we exit and no terminal's signals reach it. It
// returns the daemon's pid once the container is created and the control
// socket listens, or the daemon's error. (A launcher that can read the
// ready line itself, as cmanagerd does, starts cmshim --ready-fd
// directly and saves every container this second start.)
func Daemonize(o Options, args []string) (int, error) {
	if err := o.Check(); err != nil {
		return 0, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return 0, fmt.Errorf("create ready pipe: %w", err)
	}
	defer r.Close()
	args = append([]string{"--ready-fd", strconv.Itoa(proto.ReadyFd)}, args...)
	extra := []*os.File{w} // proto.ReadyFd
	if o.Token != "" {
		token, err := proto.TokenPipe(o.Token)
		if err != nil {
			w.Close()
			return 0, err
		}
		defer token.Close()
		args = append(args, "--token-fd", strconv.Itoa(proto.TokenFd))
		extra = append(extra, token) // proto.TokenFd
	}
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.ExtraFiles = extra
	cmd.Stderr = os.Stderr // until Detach sends the daemon's output to shim.log
	cmd.Dir = "/"          // do not keep the caller's directory busy
	cmd.SysProcAttr = &unix.SysProcAttr{Setsid: true}
	err = nsexec.ForkWithHostScheduling(cmd.Start)
	w.Close() // now only the daemon holds the write end
	if err != nil {
		return 0, fmt.Errorf("start shim daemon: %w", err)
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "ok" {
		pid := cmd.Process.Pid
		cmd.Process.Release()
		return pid, nil
	}
	cmd.Wait() // it failed and exits: reap it
	if line == "" {
		return 0, fmt.Errorf("shim daemon exited before it was ready (see %s)", o.path(ShimLogFile))
	}
	return 0, errors.New(line)
}

// Detach makes this process the daemon (cmshim --ready-fd, started by
// Daemonize or by a launcher): in a session of its own, its stdout and
// stderr sent to shim.log. It returns the ready descriptor for RunDaemon.
func Detach(o Options, readyFd int) (*os.File, error) {
	if _, err := unix.Setsid(); err != nil && !errors.Is(err, unix.EPERM) { // EPERM: already a session leader
		return nil, fmt.Errorf("setsid: %w", err)
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	shimLog, err := os.OpenFile(o.path(ShimLogFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open shim log: %w", err)
	}
	defer shimLog.Close()
	for _, fd := range []int{1, 2} {
		if err := unix.Dup2(int(shimLog.Fd()), fd); err != nil {
			return nil, fmt.Errorf("redirect output to %s: %w", shimLog.Name(), err)
		}
	}
	unix.CloseOnExec(readyFd) // the container must not inherit it
	return os.NewFile(uintptr(readyFd), "ready"), nil
}

// RunDaemon is the daemon's main: Run, with readiness reported as one
// line on ready (from Detach) to whoever started the daemon.
func RunDaemon(o Options, ready *os.File) error {
	log.SetPrefix(fmt.Sprintf("cmshim %s[%d]: ", o.ID, os.Getpid()))
	err := Run(o, func(err error) {
		msg := "ok"
		if err != nil {
			msg = strings.ReplaceAll(err.Error(), "\n", " ")
			log.Printf("%s", msg)
		}
		fmt.Fprintln(ready, msg)
		ready.Close()
	})
	log.Printf("exiting")
	return err
}
