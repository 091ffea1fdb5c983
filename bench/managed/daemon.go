// Package managed runs a private cmanagerd for the benchmarks, with its
// state, sockets and runtime root in one scratch directory, and drives it
// over its client socket with cm/manager/api as cmctl does: round trips,
// many containers at once, what each running container costs, and the
// check that nothing is left once they are removed.
//
// It never changes the manager or the shim, and never touches another
// daemon's state: everything it makes lives under its directory, in
// cgroups named after its own containers, or in processes it started.
package managed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"cm/manager/api"
)

// Daemon is a running cmanagerd started by Start.
type Daemon struct {
	Cmd      *exec.Cmd
	Client   *api.Client
	Dir      string // everything of this daemon's lives under it
	Socket   string // the client socket, for cmctl --socket
	StateDir string
	Log      string // the daemon's log file
}

// Start runs daemonBin, with the cmshim next to it as its shim and
// everything under dir, and waits until it answers. extra are more
// cmanagerd flags.
func Start(daemonBin, dir string, extra ...string) (*Daemon, error) {
	daemonBin, err := filepath.Abs(daemonBin)
	if err != nil {
		return nil, fmt.Errorf("cmanagerd path: %w", err)
	}
	shimBin := filepath.Join(filepath.Dir(daemonBin), "cmshim")
	for _, bin := range []string{daemonBin, shimBin} {
		if _, err := os.Stat(bin); err != nil {
			return nil, fmt.Errorf("%w (run `make build`)", err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	d := &Daemon{
		Dir: dir, Socket: filepath.Join(dir, "cm.sock"),
		StateDir: filepath.Join(dir, "state"), Log: filepath.Join(dir, "cmanagerd.log"),
	}
	logFile, err := os.Create(d.Log)
	if err != nil {
		return nil, fmt.Errorf("create daemon log: %w", err)
	}
	defer logFile.Close() // the daemon has its own copy
	args := append([]string{
		"--state-dir", d.StateDir, "--socket", d.Socket, "--shim-socket", filepath.Join(dir, "shim.sock"),
		"--runtime-root", d.RuntimeRoot(), "--shim", shimBin, "--log-level", "info",
	}, extra...)
	d.Cmd = exec.Command(daemonBin, args...)
	d.Cmd.Stdout, d.Cmd.Stderr = logFile, logFile
	if err := d.Cmd.Start(); err != nil {
		return nil, fmt.Errorf("start cmanagerd: %w", err)
	}
	d.Client = api.NewClient(d.Socket)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Client.WaitUp(ctx); err != nil {
		d.Stop()
		return nil, fmt.Errorf("%w within 10s (see %s)", err, d.Log)
	}
	return d, nil
}

// RuntimeRoot is where the daemon's shims keep cmrun's state.
func (d *Daemon) RuntimeRoot() string { return filepath.Join(d.Dir, "rt") }

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.Cmd.Process.Pid }

// Stop ends the daemon with SIGTERM, as a service manager would; it
// leaves the shims running, so remove every container first.
func (d *Daemon) Stop() {
	d.Client.Close()
	_ = d.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = d.Cmd.Process.Kill()
		<-done
	}
}
