package tests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/cgroupfs"
	"cm/manager"
	"cm/manager/api"
	"cm/runtime"

	"cm/tests/fixture"
)

// The helpers in this file run the real cmanagerd, which launches the real
// cmshim for each container, which runs a real busybox container.

// managerProc is one cmanagerd process and everything a test needs to
// drive it. Its sockets, runtime root and state directory live in one test
// directory, so its shims can be told apart from everybody else's.
type managerProc struct {
	t           *testing.T
	dir         string
	StateDir    string
	Socket      string
	ShimSocket  string
	RuntimeRoot string
	flags       []string
	Bridge      string // this daemon's own bridge and subnet (manager_network_test.go)
	Subnet      string

	cmd    *exec.Cmd
	exited chan struct{}
	logs   []string // cmanagerd's stderr files, one per start
	Client *api.Client
}

// startManager runs cmanagerd on dir (state in dir/state) with the given
// extra flags. Cleanup kills it and, even when the test failed halfway,
// every shim and container it left.
func startManager(t *testing.T, dir string, flags ...string) *managerProc {
	t.Helper()
	m := &managerProc{
		t: t, dir: dir, StateDir: filepath.Join(dir, "state"),
		Socket: filepath.Join(dir, "cm.sock"), ShimSocket: filepath.Join(dir, "shim.sock"),
		RuntimeRoot: filepath.Join(dir, "rt"), flags: flags,
	}
	m.Bridge, m.Subnet = testNetwork(t)
	t.Cleanup(m.cleanup)
	m.start()
	return m
}

// managerRootfs is the busybox rootfs the daemon's containers run from:
// TestMain's, shared, since the daemon's default config mounts it read-only.
func managerRootfs() string { return rootfsProto }

// start runs the daemon and waits until it answers.
func (m *managerProc) start() {
	t := m.t
	t.Helper()
	args := append([]string{
		"--state-dir", m.StateDir, "--socket", m.Socket, "--shim-socket", m.ShimSocket,
		"--shim", filepath.Join(binDir, "cmshim"), "--runtime-root", m.RuntimeRoot, "--log-level", "debug",
		"--cni-bin-dir", cniBinDir(), "--network-bridge", m.Bridge, "--network-subnet", m.Subnet,
	}, m.flags...)
	logFile, err := os.CreateTemp(m.dir, "cmanagerd-*.log")
	require.NoError(t, err)
	defer logFile.Close()
	m.logs = append(m.logs, logFile.Name())
	cmd := exec.Command(filepath.Join(binDir, "cmanagerd"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	require.NoError(t, cmd.Start())
	m.cmd, m.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(m.exited)
	m.Client = api.NewClient(m.Socket)
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	go func(exited chan struct{}) { // a daemon that died at start will not answer
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}(m.exited)
	require.NoError(t, m.Client.WaitUp(ctx), "%s", m.log())
}

// in returns the handle for use in subtest t, so its helpers fail t.
func (m *managerProc) in(t *testing.T) *managerProc {
	c := *m
	c.t = t
	return &c
}

// kill9 kills the daemon with SIGKILL: no shutdown of any kind.
func (m *managerProc) kill9() {
	m.t.Helper()
	m.cmd.Process.Kill()
	<-m.exited
	m.Client.Close()
}

// stop ends the daemon with SIGTERM, its clean shutdown.
func (m *managerProc) stop() {
	m.t.Helper()
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(waitLong):
		m.cmd.Process.Kill()
		<-m.exited
		require.FailNow(m.t, "cmanagerd did not stop on SIGTERM", "%s", m.log())
	}
	require.Equal(m.t, 0, m.cmd.ProcessState.ExitCode(), "cmanagerd exit status; log:\n%s", m.log())
	m.Client.Close()
}

// restart starts the daemon again on the same sockets, with stateDir as
// its state directory (m.StateDir: the same one).
func (m *managerProc) restart(stateDir string) {
	m.t.Helper()
	m.StateDir = stateDir
	m.start()
}

// log is everything the daemon wrote, across its restarts.
func (m *managerProc) log() string {
	var b strings.Builder
	for i, name := range m.logs {
		data, _ := os.ReadFile(name)
		fmt.Fprintf(&b, "--- cmanagerd run %d ---\n%s", i+1, data)
	}
	return b.String()
}

// shimLog is what the shim of id wrote, if its directory is still there.
func (m *managerProc) shimLog(id string) string {
	data, _ := os.ReadFile(filepath.Join(m.StateDir, "containers", id, "shim.log"))
	return string(data)
}

// ctx is a context bounded by the polling deadline, for one API call.
func (m *managerProc) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	m.t.Cleanup(cancel)
	return ctx
}

// cmctl runs the cmctl binary against the daemon.
func (m *managerProc) cmctl(args ...string) result {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "cmctl"), append([]string{"--socket", m.Socket}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
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

// cmctlOK runs cmctl, requires success and returns its trimmed stdout.
func (m *managerProc) cmctlOK(args ...string) string {
	m.t.Helper()
	r := m.cmctl(args...)
	require.Equal(m.t, 0, r.code, "cmctl %v: %s\n%s", args, r.stderr, m.log())
	return strings.TrimSpace(r.stdout)
}

// create makes a container from the shared rootfs and waits until it is
// READY; it returns the container.
func (m *managerProc) create(req api.CreateRequest) api.Container {
	m.t.Helper()
	if req.Rootfs == "" && req.Bundle == "" {
		req.Rootfs = managerRootfs()
	}
	ct, err := m.Client.Create(m.ctx(), req)
	require.NoError(m.t, err)
	ct, err = m.Client.Wait(m.ctx(), ct.ID, manager.Ready, manager.Dead, manager.Lost)
	require.NoError(m.t, err)
	require.Equal(m.t, manager.Ready, ct.State, "container %s: %s\nshim log:\n%s", ct.ID, ct.Error, m.shimLog(ct.ID))
	return ct
}

// run creates and starts a container running args; it returns it RUNNING.
func (m *managerProc) run(args ...string) api.Container {
	m.t.Helper()
	ct := m.create(api.CreateRequest{Args: args})
	ct, err := m.Client.Start(m.ctx(), ct.ID)
	require.NoError(m.t, err)
	require.Equal(m.t, manager.Running, ct.State)
	require.NotZero(m.t, ct.Pid, "the container's pid")
	require.NotZero(m.t, ct.ShimPid, "the shim's pid")
	return ct
}

// runToEnd creates and starts a container running a short program and
// returns it once it is DEAD. (Start may already answer DEAD.)
func (m *managerProc) runToEnd(args ...string) api.Container {
	m.t.Helper()
	ct := m.create(api.CreateRequest{Args: args})
	_, err := m.Client.Start(m.ctx(), ct.ID)
	require.NoError(m.t, err)
	ct, err = m.Client.Wait(m.ctx(), ct.ID)
	require.NoError(m.t, err)
	require.Equal(m.t, manager.Dead, ct.State)
	return ct
}

// waitState polls until the container is in state want and returns it.
func (m *managerProc) waitState(id string, want manager.State) api.Container {
	m.t.Helper()
	var ct api.Container
	require.Eventually(m.t, func() bool {
		var err error
		ct, err = m.Client.Get(context.Background(), id)
		return err == nil && ct.State == want
	}, waitLong, tick, "container %s never became %s (it is %s)\n%s", id, want, ct.State, m.log())
	return ct
}

// cleanup kills the daemon and everything it started: its shims (found by
// the sockets in their command line), the containers in its runtime root
// and their cgroups.
func (m *managerProc) cleanup() {
	if m.t.Failed() {
		m.t.Logf("%s", m.log())
	}
	if m.cmd != nil && m.cmd.ProcessState == nil {
		m.cmd.Process.Kill()
		<-m.exited
	}
	for _, pid := range m.shimPids() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	containers, _ := runtime.List(m.RuntimeRoot)
	for _, c := range containers {
		runtime.Delete(m.RuntimeRoot, c.ID, true)
	}
	// A container whose runtime state is gone may still have its cgroup.
	ids, _ := os.ReadDir(filepath.Join(m.StateDir, "containers"))
	for _, id := range ids {
		removeCgroup(id.Name())
	}
	m.removeNetwork()
}

// shimPids lists the live shims of this daemon: cmshim processes whose
// command line names its shim socket.
func (m *managerProc) shimPids() []int {
	var pids []int
	for _, pid := range livePids() {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		if strings.Contains(string(cmdline), "\x00--manager\x00"+m.ShimSocket+"\x00") {
			pids = append(pids, pid)
		}
	}
	return pids
}

// livePids lists every process that is not a zombie.
func livePids() []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err == nil && fixture.Alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// cgroupDirs lists the v1 cgroup directories of a container the daemon
// created: it asks the runtime for /cm/ID (manager/daemon/bundle.go).
func cgroupDirs(id string) []string {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/cm/" + id)
	more, _ := filepath.Glob("/sys/fs/cgroup/cm/" + id)
	return append(dirs, more...)
}

// removeCgroup kills every process in the container's cgroup and removes it.
func removeCgroup(id string) {
	host, err := cgroupfs.Detect()
	if err != nil {
		return
	}
	if g, err := host.Group("/cm/" + id); err == nil {
		g.KillAll(syscall.SIGKILL)
		g.Destroy()
	}
}

// requireContainerGone checks that nothing of a container the daemon ran
// is left: no process in its cgroup, no cgroup, no runtime state and no
// directory in the daemon's state.
func (m *managerProc) requireContainerGone(id string) {
	m.t.Helper()
	require.Eventually(m.t, func() bool { return len(fixture.ProcessesInCgroup(id)) == 0 }, waitLong, tick,
		"processes of %s left: %v", id, fixture.ProcessesInCgroup(id))
	require.Eventually(m.t, func() bool { return len(cgroupDirs(id)) == 0 }, waitLong, tick,
		"cgroup of %s left: %v", id, cgroupDirs(id))
	// A shim that was still starting when rm came removes its container
	// itself, when it hears "unknown container": wait for it too.
	for _, dir := range []string{filepath.Join(m.RuntimeRoot, id), filepath.Join(m.StateDir, "containers", id)} {
		require.Eventually(m.t, func() bool {
			_, err := os.Stat(dir)
			return os.IsNotExist(err)
		}, waitLong, tick, "%s left behind", dir)
	}
}

// requireNoShims checks that every shim of the daemon has exited.
func (m *managerProc) requireNoShims() {
	m.t.Helper()
	require.Eventually(m.t, func() bool { return len(m.shimPids()) == 0 }, waitLong, tick,
		"shims still running: %v", m.shimPids())
}

// waitForCminit waits until cminit, the container's PID 1 at pid, has
// started its child. Only then does it forward signals: one that comes
// during its exec, or in the instant before its Go code asks for them,
// is lost or ends it with status 2, a limit of a Go PID 1 (cmd/cminit).
func waitForCminit(t *testing.T, pid int) {
	t.Helper()
	require.Eventually(t, func() bool {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
		return strings.TrimSpace(string(data)) != ""
	}, waitLong, tick, "cminit (pid %d) started its child", pid)
}
