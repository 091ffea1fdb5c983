package shim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	_ "cm/nsexec" // BenchmarkCreateStart creates containers in this test binary
	"cm/runtime"
	"cm/runtime/spec"
	"cm/shim"
	"cm/shim/proto"
	"cm/tests/fixture"
)

// Set by TestMain.
var (
	binDir      string // freshly built cmshim, cminit and cmrun
	rootfsProto string // a busybox root filesystem that bundles copy
)

// Polling bounds for require.Eventually: generous, CI machines are slow.
const (
	waitLong = 20 * time.Second
	tick     = 20 * time.Millisecond
)

func TestMain(m *testing.M) {
	// The benchmark's in-process containers start their init as
	// "/proc/self/exe init", that is, as this test binary.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.Init()
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "shim tests run real containers and must run as root")
		os.Exit(1)
	}
	tmp, err := os.MkdirTemp("", "cmshim-tests-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(tmp)
		binDir = filepath.Join(tmp, "bin")
		build := exec.Command("go", "build", "-o", binDir+"/", "cm/cmd/cmshim", "cm/cmd/cminit", "cm/cmd/cmrun")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build binaries:", err)
			return 1
		}
		rootfsProto = filepath.Join(tmp, "rootfs")
		if err := fixture.BusyboxRootfs(rootfsProto); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

var idCounter atomic.Int64

// env is one test's world: a short temporary directory (socket paths
// must fit in 108 bytes), a runtime root and a fake manager.
type env struct {
	t       testing.TB
	dir     string
	rtRoot  string
	manager *fakeManager
}

// newEnv starts a fake manager that asks for heartbeats every interval.
func newEnv(t *testing.T, interval time.Duration) *env {
	dir, err := os.MkdirTemp("", "cmshim-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &env{t: t, dir: dir, rtRoot: filepath.Join(dir, "rt")}
	e.manager = newFakeManager(t, dir, interval)
	return e
}

// bundle writes a busybox bundle running args; edit changes the config.
func (e *env) bundle(edit func(*specs.Spec), args ...string) string {
	e.t.Helper()
	dir, err := os.MkdirTemp(e.dir, "bundle-")
	require.NoError(e.t, err)
	out, err := exec.Command("cp", "-a", rootfsProto, filepath.Join(dir, "rootfs")).CombinedOutput()
	require.NoError(e.t, err, string(out))
	s := spec.DefaultSpec()
	s.Process.Terminal = false
	s.Process.Args = args
	if edit != nil {
		edit(s)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	require.NoError(e.t, err)
	require.NoError(e.t, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644))
	return dir
}

// shimProc is one launched cmshim daemon.
type shimProc struct {
	id       string
	pid      int
	pidfd    int // readable once the daemon has exited (it is not our child)
	stateDir string
	control  *shim.ControlClient
}

// launch runs cmshim for a new container of bundle and returns its
// daemon once cmshim has printed the pid.
func (e *env) launch(bundle string, flags ...string) *shimProc {
	e.t.Helper()
	id := fmt.Sprintf("shimt-%d-%d", os.Getpid(), idCounter.Add(1))
	stateDir := filepath.Join(e.dir, id)
	args := append([]string{"--id", id, "--bundle", bundle, "--state-dir", stateDir,
		"--manager", e.manager.path, "--runtime-root", e.rtRoot}, flags...)
	out, err := exec.Command(filepath.Join(binDir, "cmshim"), args...).Output()
	require.NoError(e.t, err, "cmshim %v: %s", args, stderrOf(err))
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	require.NoError(e.t, err, "cmshim printed %q", out)
	pidfd, err := unix.PidfdOpen(pid, 0)
	require.NoError(e.t, err, "shim daemon %d is gone", pid)
	p := &shimProc{id: id, pid: pid, pidfd: pidfd, stateDir: stateDir,
		control: shim.NewControlClient(filepath.Join(stateDir, proto.ControlSocket))}
	e.t.Cleanup(func() {
		if !p.exited() {
			if e.t.Failed() {
				shimLog, _ := os.ReadFile(filepath.Join(stateDir, shim.ShimLogFile))
				e.t.Logf("shim log of %s:\n%s", id, shimLog)
			}
			unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0)
		}
		unix.Close(p.pidfd)
		runtime.Delete(e.rtRoot, id, true)
	})
	return p
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// exited reports whether the daemon has exited.
func (p *shimProc) exited() bool {
	fds := []unix.PollFd{{Fd: int32(p.pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n == 1
}

func (p *shimProc) start(t *testing.T) int {
	t.Helper()
	pid, err := p.control.Start(context.Background())
	require.NoError(t, err)
	return pid
}

// noPidNS takes the PID namespace away: the init's death then does not
// take the container's other processes along; only killing the cgroup does.
func noPidNS(s *specs.Spec) { fixture.WithoutNamespace(s, specs.PIDNamespace) }
