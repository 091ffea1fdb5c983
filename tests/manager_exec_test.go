package tests

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/cgroupfs"
	"cm/manager"
	"cm/manager/api"
)

// cmctlIn runs cmctl with stdin as its standard input.
func (m *managerProc) cmctlIn(stdin string, args ...string) result {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "cmctl"), append([]string{"--socket", m.Socket}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(m.t, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// TestManagerExec runs processes in a RUNNING container through the real
// daemon and shim: separate stdout and stderr, stdin, exit codes, and the
// user, directory and environment options.
func TestManagerExec(t *testing.T) {
	m := startManager(t, t.TempDir())
	ct := m.create(api.CreateRequest{Args: []string{"sleep", "1000"}, Env: []string{"GREETING=hello", "PATH=/bin:/sbin:/usr/bin"}})
	_, err := m.Client.Start(m.ctx(), ct.ID)
	require.NoError(t, err)

	for _, tc := range []struct {
		name           string
		stdin          string
		args           []string
		stdout, stderr string
		code           int
	}{
		{"stdout and stderr apart", "", []string{"sh", "-c", "echo out; echo err >&2"}, "out\n", "err\n", 0},
		{"exit code", "", []string{"sh", "-c", "echo bye; exit 3"}, "bye\n", "", 3},
		{"stdin with -i", "line one\nline two\n", []string{"-i", "--", "wc", "-l"}, "2\n", "", 0},
		{"no stdin without -i", "ignored\n", []string{"cat"}, "", "", 0},
		{"container's environment", "", []string{"sh", "-c", "echo $GREETING"}, "hello\n", "", 0},
		{"--env adds and replaces", "", []string{"-e", "GREETING=hi", "--env", "X=1", "--", "sh", "-c", "echo $GREETING $X"}, "hi 1\n", "", 0},
		{"--user", "", []string{"-u", "1000:1001", "--", "id", "-u"}, "1000\n", "", 0},
		{"--user group", "", []string{"--user", "1000:1001", "--", "id", "-g"}, "1001\n", "", 0},
		{"--cwd", "", []string{"-w", "/tmp", "--", "pwd"}, "/tmp\n", "", 0},
		{"killed by a signal", "", []string{"sh", "-c", "kill -9 $$"}, "", "", 137},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := m.in(t)
			// cmctl exec [flags] ID [--] CMD: the flags end at the id.
			flags, cmd := []string{}, tc.args
			if i := slices.Index(tc.args, "--"); i >= 0 {
				flags, cmd = tc.args[:i], tc.args[i+1:]
			}
			args := append(append(append([]string{"exec"}, flags...), ct.ID), cmd...)
			r := m.cmctlIn(tc.stdin, args...)
			require.Equal(t, tc.code, r.code, "exit code; stderr %q", r.stderr)
			require.Equal(t, tc.stdout, strings.TrimLeft(r.stdout, " "))
			require.Equal(t, tc.stderr, r.stderr)
		})
	}

	t.Run("command not found", func(t *testing.T) {
		m := m.in(t)
		r := m.cmctl("exec", ct.ID, "--", "no-such-command")
		require.Equal(t, 127, r.code, "stderr %q", r.stderr)
		requireOneLineError(t, r, "no-such-command")
	})
	t.Run("not executable", func(t *testing.T) {
		m := m.in(t)
		r := m.cmctl("exec", ct.ID, "--", "/etc")
		require.Equal(t, 126, r.code, "stderr %q", r.stderr)
		requireOneLineError(t, r, "/etc")
	})
	t.Run("bad user", func(t *testing.T) {
		m := m.in(t)
		r := m.cmctl("exec", "-u", "root", ct.ID, "--", "true")
		requireOneLineError(t, r, `user: "root": want UID or UID:GID`)
	})

	// Exec changed nothing: the container runs on, its init untouched,
	// and no exec'd process is left in it.
	got, err := m.Client.Get(m.ctx(), ct.ID)
	require.NoError(t, err)
	require.Equal(t, manager.Running, got.State)
	require.Equal(t, []int{got.Pid}, cgroupProcs(t, ct.ID))
}

// cgroupProcs lists the pids in the container's cgroup (the daemon puts
// each container in /cm/ID).
func cgroupProcs(t *testing.T, id string) []int {
	t.Helper()
	host, err := cgroupfs.Detect()
	require.NoError(t, err)
	g, err := host.Group("/cm/" + id)
	require.NoError(t, err)
	pids, err := g.Pids()
	require.NoError(t, err)
	return pids
}

// TestManagerExecTerminal runs exec -t under a terminal of its own, as a
// person would: the process gets a pty of the container, and resizing
// cmctl's terminal resizes it.
func TestManagerExecTerminal(t *testing.T) {
	m := startManager(t, t.TempDir())
	ct := m.run("sleep", "1000")

	t.Run("tty", func(t *testing.T) {
		out, code := execUnderPty(t, m.in(t), []string{"exec", "-t", ct.ID, "sh", "-c", "tty; stty size; exit 4"}, nil)
		require.Equal(t, 4, code, out)
		require.Regexp(t, `/dev/pts/\d+`, out)
		require.Contains(t, out, "24 80", "cmctl's terminal size is the process's first size")
	})

	t.Run("resize", func(t *testing.T) {
		script := `while read x; do [ "$x" = q ] && exit 7; stty size; done`
		out, code := execUnderPty(t, m.in(t), []string{"exec", "-i", "-t", ct.ID, "--", "sh", "-c", script}, func(master *os.File, output *ptyOutput) {
			master.Write([]byte("\n"))
			output.waitFor(t, "24 80")
			// The kernel sends cmctl SIGWINCH; cmctl sends the new size.
			require.NoError(t, unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 132}))
			// The resize and the next line race inside cmctl; ask until
			// the process sees the new size.
			for i := 0; i < 200 && !strings.Contains(output.String(), "40 132"); i++ {
				master.Write([]byte("\n"))
				output.waitForCount(t, regexp.MustCompile(`\d+ \d+`), i+2)
			}
			require.Contains(t, output.String(), "40 132")
			master.Write([]byte("q\n"))
		})
		require.Equal(t, 7, code, out)
	})
}

// ptyOutput collects what a pty master reads.
type ptyOutput struct {
	mu    chan struct{} // a one-slot lock
	buf   strings.Builder
	more  chan struct{} // closed and replaced at each read
	ended chan struct{}
}

func (o *ptyOutput) String() string {
	o.mu <- struct{}{}
	defer func() { <-o.mu }()
	return o.buf.String()
}

// waitFor waits until the output contains s.
func (o *ptyOutput) waitFor(t *testing.T, s string) {
	t.Helper()
	o.waitUntil(t, func(out string) bool { return strings.Contains(out, s) }, s)
}

// waitForCount waits until re matches n times.
func (o *ptyOutput) waitForCount(t *testing.T, re *regexp.Regexp, n int) {
	t.Helper()
	o.waitUntil(t, func(out string) bool { return len(re.FindAllString(out, -1)) >= n }, fmt.Sprintf("%d matches of %s", n, re))
}

func (o *ptyOutput) waitUntil(t *testing.T, ok func(string) bool, what string) {
	t.Helper()
	deadline := time.After(waitLong)
	for {
		o.mu <- struct{}{}
		out, more := o.buf.String(), o.more
		<-o.mu
		if ok(out) {
			return
		}
		select {
		case <-more:
		case <-o.ended:
			require.True(t, ok(o.String()), "output ended without %s: %q", what, o.String())
			return
		case <-deadline:
			require.FailNow(t, "no "+what+" in the output", "%q", out)
		}
	}
}

// execUnderPty runs cmctl args with a new pty as its controlling
// terminal (24x80), lets drive talk to it, and returns all the output and
// cmctl's exit code.
func execUnderPty(t *testing.T, m *managerProc, args []string, drive func(master *os.File, output *ptyOutput)) (string, int) {
	master, slave := openPty(t)
	cmd := exec.Command(filepath.Join(binDir, "cmctl"), append([]string{"--socket", m.Socket}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { // a test that failed halfway leaves no cmctl
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	slave.Close()
	output := &ptyOutput{mu: make(chan struct{}, 1), more: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(output.ended)
		buf := make([]byte, 4096)
		for {
			master.SetReadDeadline(time.Now().Add(waitLong))
			n, err := master.Read(buf)
			output.mu <- struct{}{}
			output.buf.Write(buf[:n])
			close(output.more)
			output.more = make(chan struct{})
			<-output.mu
			if err != nil {
				return
			}
		}
	}()
	if drive != nil {
		drive(master, output)
	}
	<-output.ended
	err := cmd.Wait()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return strings.ReplaceAll(output.String(), "\r\n", "\n"), code
}

// TestManagerExecRefused: exec is for RUNNING containers only. Any other
// state gets 409 and one line, and the container is as it was.
func TestManagerExecRefused(t *testing.T) {
	m := startManager(t, t.TempDir())
	ready := m.create(api.CreateRequest{Args: []string{"sleep", "1000"}})
	dead := m.runToEnd("true")
	for _, ct := range []api.Container{ready, dead} {
		t.Run(ct.State.String(), func(t *testing.T) {
			m := m.in(t)
			_, err := m.Client.Exec(m.ctx(), ct.ID, api.ExecRequest{Args: []string{"true"}})
			require.Error(t, err)
			require.Equal(t, 409, api.StatusOf(err), "%v", err)

			r := m.cmctl("exec", ct.ID, "--", "true")
			require.Equal(t, 1, r.code)
			requireOneLineError(t, r, fmt.Sprintf("cannot exec container %s: it is %s (exec needs RUNNING)", ct.ID, ct.State))
			require.Empty(t, r.stdout)

			got, err := m.Client.Get(m.ctx(), ct.ID)
			require.NoError(t, err)
			require.Equal(t, ct.State, got.State)
		})
	}
	// READY: only the init waits in the cgroup, nothing was spawned.
	got, err := m.Client.Get(m.ctx(), ready.ID)
	require.NoError(t, err)
	require.Equal(t, []int{got.Pid}, cgroupProcs(t, ready.ID))
}

// TestManagerRun is create + start + logs + wait in one command.
func TestManagerRun(t *testing.T) {
	m := startManager(t, t.TempDir())

	t.Run("rm and exit code", func(t *testing.T) {
		m := m.in(t)
		r := m.cmctl("run", "--rm", "--rootfs", managerRootfs(), "--", "sh", "-c", "echo hello; echo oops >&2; exit 3")
		require.Equal(t, 3, r.code, "stderr %q", r.stderr)
		require.Equal(t, "hello\noops\n", r.stdout)
		require.Empty(t, r.stderr)
		m.requireNoShims() // a deleted shim exits just after its answer
		m.requireEmpty()
	})

	t.Run("kept without rm", func(t *testing.T) {
		m := m.in(t)
		r := m.cmctl("run", "--rm=false", "--name", "kept", "--rootfs", managerRootfs(), "--", "true")
		require.Equal(t, 0, r.code, "stderr %q", r.stderr)
		ct, err := m.Client.Get(m.ctx(), "kept")
		require.NoError(t, err)
		require.Equal(t, manager.Dead, ct.State)
		m.cmctlOK("rm", "kept")
	})

	t.Run("detach", func(t *testing.T) {
		m := m.in(t)
		id := m.cmctlOK("run", "-d", "--rootfs", managerRootfs(), "--", "sleep", "1000")
		ct, err := m.Client.Get(m.ctx(), id)
		require.NoError(t, err)
		require.Equal(t, manager.Running, ct.State)
		out := m.cmctlOK("exec", id, "--", "echo", "inside")
		require.Equal(t, "inside", out)
		m.cmctlOK("rm", "--force", id)
		m.requireNoShims() // a deleted shim exits just after its answer
		m.requireEmpty()
	})

	t.Run("interrupt stops the container", func(t *testing.T) {
		m := m.in(t)
		cmd := exec.Command(filepath.Join(binDir, "cmctl"), "--socket", m.Socket, "run", "--rm", "--init", "--rootfs", managerRootfs(), "--",
			"sh", "-c", "echo ready; exec sleep 1000")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		// "ready" means cminit runs the program, so it forwards signals:
		// a stop signal any earlier could meet a cminit not yet listening.
		line, err := bufio.NewReader(stdout).ReadString('\n')
		require.NoError(t, err, "stderr %q", stderr.String())
		require.Equal(t, "ready\n", line)
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		io.Copy(io.Discard, stdout)
		err = cmd.Wait()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "stderr %q", stderr.String())
		// cminit passed the stop signal on: 128 + SIGTERM.
		require.Equal(t, 143, exit.ExitCode(), "stderr %q", stderr.String())
		m.requireNoShims() // a deleted shim exits just after its answer
		m.requireEmpty()
	})

	t.Run("bad create flag", func(t *testing.T) {
		m := m.in(t)
		r := m.cmctl("run", "--rm", "--memory", "lots", "--rootfs", managerRootfs(), "--", "true")
		requireOneLineError(t, r, "--memory")
		m.requireNoShims() // a deleted shim exits just after its answer
		m.requireEmpty()
	})
}

// TestManagerExecClientGone: a process whose cmctl is killed, or whose
// daemon stops, is killed too, so nothing runs on in the container that
// nobody can see or wait for.
func TestManagerExecClientGone(t *testing.T) {
	m := startManager(t, t.TempDir())
	ct := m.run("sleep", "1000")
	cmd := exec.Command(filepath.Join(binDir, "cmctl"), "--socket", m.Socket, "exec", ct.ID, "--", "sleep", "1001")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	require.Eventually(t, func() bool { return len(cgroupProcs(t, ct.ID)) == 2 }, waitLong, tick, "the exec'd sleep never ran")

	require.NoError(t, cmd.Process.Kill())
	cmd.Wait()
	require.Eventually(t, func() bool { return slices.Equal(cgroupProcs(t, ct.ID), []int{ct.Pid}) }, waitLong, tick,
		"the exec'd process outlived its client: %v", cgroupProcs(t, ct.ID))
	got, err := m.Client.Get(m.ctx(), ct.ID)
	require.NoError(t, err)
	require.Equal(t, manager.Running, got.State)

	// The daemon stopping ends the session the same way.
	cmd = exec.Command(filepath.Join(binDir, "cmctl"), "--socket", m.Socket, "exec", ct.ID, "--", "sleep", "1002")
	require.NoError(t, cmd.Start())
	require.Eventually(t, func() bool { return len(cgroupProcs(t, ct.ID)) == 2 }, waitLong, tick, "the exec'd sleep never ran")
	m.stop()
	require.Error(t, cmd.Wait(), "cmctl exec must fail when its session is cut")
	require.Eventually(t, func() bool { return slices.Equal(cgroupProcs(t, ct.ID), []int{ct.Pid}) }, waitLong, tick,
		"the exec'd process outlived the daemon's shutdown: %v", cgroupProcs(t, ct.ID))
}
