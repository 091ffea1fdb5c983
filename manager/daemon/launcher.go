package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"cm/shim/proto"
)

// ShimConfig is what a shim is launched with.
type ShimConfig struct {
	ID            string
	Bundle        string // the directory holding the config.json the executor wrote
	StateDir      string // the container's directory: the shim keeps shim.sock and container.log here
	ManagerSocket string // the daemon's shim socket, where the shim registers and reports
	Init          bool   // run a tiny init as the container's PID 1
	// Token is the shim's secret: it sends it with every message (see
	// authShim). Hand it over privately, never in argv or the environment.
	Token string

	// Lock is the container's shim lock, taken: the shim must hold it as
	// long as it lives (see shimlock.go).
	Lock *os.File
}

// Launcher starts the shim of a container. Launch returns once the shim
// runs on its own (in a session of its own: it outlives the daemon); the
// shim then registers on the shim socket by itself.
type Launcher interface {
	Launch(ctx context.Context, sc ShimConfig) error
}

// ExecLauncher runs the cmshim binary as the shim daemon itself:
//
//	cmshim --ready-fd 3 --token-fd 4 [--lock-fd 5] --id ID --bundle DIR --state-dir DIR --manager SOCKET [--runtime-root DIR] [--log-max BYTES] [--init]
//
// in a session of its own, with the descriptors of package proto: the
// write end of a pipe as fd 3 on which it writes one line, "ok" once its
// container is created and its control socket listens, or why it failed,
// and as fd 4 the read end of a pipe that holds its token (other
// processes can read a command line). (Run by hand, cmshim daemonizes by
// starting itself a second time; a launcher that can wait for a line
// saves every container that second start.) The shim is the daemon's
// child until it exits (see shims) or the daemon does.
type ExecLauncher struct {
	Binary      string
	RuntimeRoot string // cmshim --runtime-root, if set
	LogMax      int64  // cmshim --log-max, if > 0
}

// Launch runs the shim binary and waits for its ready line.
func (l ExecLauncher) Launch(ctx context.Context, sc ShimConfig) error {
	args := []string{"--ready-fd", strconv.Itoa(proto.ReadyFd), "--token-fd", strconv.Itoa(proto.TokenFd), "--id", sc.ID, "--bundle", sc.Bundle, "--state-dir", sc.StateDir, "--manager", sc.ManagerSocket}
	if l.RuntimeRoot != "" {
		args = append(args, "--runtime-root", l.RuntimeRoot)
	}
	if l.LogMax > 0 {
		args = append(args, "--log-max", strconv.FormatInt(l.LogMax, 10))
	}
	if sc.Init {
		args = append(args, "--init")
	}
	token, err := proto.TokenPipe(sc.Token)
	if err != nil {
		return fmt.Errorf("launch %s for container %s: %w", l.Binary, sc.ID, err)
	}
	defer token.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("launch %s for container %s: %w", l.Binary, sc.ID, err)
	}
	defer r.Close()
	// Not CommandContext: the shim must outlive the request that made it.
	cmd := exec.Command(l.Binary, args...)
	cmd.ExtraFiles = []*os.File{w, token} // proto.ReadyFd, proto.TokenFd
	if sc.Lock != nil {
		// Held by the shim from the fork on.
		cmd.ExtraFiles = append(cmd.ExtraFiles, sc.Lock) // proto.LockFd
		cmd.Args = append(cmd.Args, "--lock-fd", strconv.Itoa(proto.LockFd))
	}
	// What the shim says before it sends its output to shim.log (a bad
	// flag, say). A pipe of our own, not a Go writer: exec.Cmd would keep
	// its read end open until a Wait that a running shim never gets.
	er, ew, err := os.Pipe()
	if err != nil {
		w.Close()
		return fmt.Errorf("launch %s for container %s: %w", l.Binary, sc.ID, err)
	}
	defer er.Close()
	cmd.Stdout, cmd.Stderr = ew, ew
	cmd.Dir = "/" // do not keep the daemon's directory busy
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	w.Close() // now only the shim holds the write ends
	ew.Close()
	if err != nil {
		return fmt.Errorf("launch %s for container %s: %w", l.Binary, sc.ID, err)
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	// From then on the shim runs on its own; shims reaps it when it exits.
	handOver := func() {
		pid := cmd.Process.Pid // Release forgets it
		cmd.Process.Release()
		shims.add(pid)
	}
	var msg string
	select {
	case msg = <-line:
	case <-ctx.Done():
		// Stop waiting, not the shim: killed half-way it would leave a
		// half-made container. If it gets ready, it registers anyway.
		handOver()
		return fmt.Errorf("launch %s for container %s: %w", l.Binary, sc.ID, ctx.Err())
	}
	if msg == "ok" {
		handOver()
		return nil
	}
	cmd.Wait()
	if msg == "" {
		early, _ := io.ReadAll(io.LimitReader(er, 4096))
		msg = strings.TrimSpace(string(early))
	}
	if msg == "" {
		msg = "exited before it was ready: " + cmd.ProcessState.String()
	}
	return fmt.Errorf("launch %s for container %s: %s", l.Binary, sc.ID, msg)
}
