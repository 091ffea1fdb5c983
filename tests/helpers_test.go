package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/runtime/spec"
	"cm/tests/fixture"
)

// Set by TestMain.
var (
	binDir      string // freshly built cmrun (and friends)
	rootfsProto string // a busybox root filesystem that bundles copy
)

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "tests: the integration tests run real containers and must run as root")
		os.Exit(1)
	}
	tmp, err := os.MkdirTemp("", "cm-tests-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(tmp)
		binDir = filepath.Join(tmp, "bin")
		// The Makefile's build, so that the tests run the binaries a user
		// gets (cmrun and cmshim are linked statically, with jsonv2).
		build := exec.Command("make", "-s", "-C", "..", "build", "BIN="+binDir)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "tests: build binaries:", err)
			return 1
		}
		rootfsProto = filepath.Join(tmp, "rootfs")
		if err := fixture.BusyboxRootfs(rootfsProto); err != nil {
			fmt.Fprintln(os.Stderr, "tests:", err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

var idCounter atomic.Int64

// env is one test's world: a state root and helpers to make bundles and run cmrun.
type env struct {
	t    *testing.T
	root string // --root of cmrun
	dir  string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	return &env{t: t, root: filepath.Join(dir, "state"), dir: dir}
}

// newID returns a container id unique across tests and runs.
func (e *env) newID() string {
	name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(e.t.Name(), "-")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return fmt.Sprintf("cmt-%d-%d-%s", os.Getpid(), idCounter.Add(1), strings.Trim(name, "-"))
}

// bundle writes a bundle running args (no terminal); edit changes the config first.
func (e *env) bundle(edit func(*specs.Spec), args ...string) string {
	e.t.Helper()
	dir, err := os.MkdirTemp(e.dir, "bundle-")
	require.NoError(e.t, err)
	// Temporary directories are 0700; a container root mapped to another
	// host uid (user namespaces) must still be able to reach its rootfs.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	out, err := exec.Command("cp", "-a", rootfsProto, filepath.Join(dir, "rootfs")).CombinedOutput()
	require.NoError(e.t, err, string(out))
	s := spec.DefaultSpec()
	s.Process.Terminal = false
	if len(args) > 0 {
		s.Process.Args = args
	}
	if edit != nil {
		edit(s)
	}
	e.writeConfig(dir, s)
	return dir
}

func (e *env) writeConfig(dir string, s *specs.Spec) {
	data, err := json.MarshalIndent(s, "", "  ")
	require.NoError(e.t, err)
	require.NoError(e.t, os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644))
}

// result is what one cmrun invocation did.
type result struct {
	stdout, stderr string
	code           int
}

// cmrun runs the binary with --root set and waits at most a minute.
func (e *env) cmrun(args ...string) result {
	e.t.Helper()
	return e.cmrunIn("", nil, args...)
}

func (e *env) cmrunIn(dir string, stdin []byte, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "cmrun"), append([]string{"--root", e.root}, args...)...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	return e.runCmd(cmd)
}

// runCmd runs cmd with files, not pipes, for its output: a created or
// detached container inherits its stdout and stderr, and a pipe would
// stay open for the container's whole life. It is killed after a minute.
func (e *env) runCmd(cmd *exec.Cmd) result {
	e.t.Helper()
	stdout, stderr := e.tempFile(), e.tempFile()
	defer stdout.Close()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	require.NoError(e.t, cmd.Start())
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(e.t, err)
	}
	return result{stdout: readBack(stdout), stderr: readBack(stderr), code: code}
}

func (e *env) tempFile() *os.File {
	f, err := os.CreateTemp(e.dir, "out-")
	require.NoError(e.t, err)
	return f
}

func readBack(f *os.File) string {
	data, _ := os.ReadFile(f.Name())
	return string(data)
}

// run does "cmrun run" of a bundle and cleans up if the test fails midway.
func (e *env) run(bundle string, args ...string) result {
	e.t.Helper()
	id := e.newID()
	e.t.Cleanup(func() { e.forceDelete(id) })
	return e.cmrun(append(append([]string{"run", "--bundle", bundle}, args...), id)...)
}

func (e *env) forceDelete(id string) {
	cmd := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "delete", "--force", id)
	cmd.Run()
}

// state returns the OCI state of a container.
func (e *env) state(id string) specs.State {
	e.t.Helper()
	r := e.cmrun("state", id)
	require.Equal(e.t, 0, r.code, r.stderr)
	var st specs.State
	require.NoError(e.t, json.Unmarshal([]byte(r.stdout), &st))
	return st
}

// requireOneLineError checks a failed command: non-zero exit, one line on
// stderr that contains want.
func requireOneLineError(t *testing.T, r result, want string) {
	t.Helper()
	require.NotEqual(t, 0, r.code, "command should fail; stdout: %s", r.stdout)
	msg := strings.TrimSpace(r.stderr)
	require.Equal(t, 1, len(strings.Split(msg, "\n")), "error should be one line, got: %q", msg)
	require.Contains(t, msg, want)
}

// requireNoLeftovers checks that nothing of container id remains: no
// state directory, no mount under the bundle, no cgroup, no process.
func (e *env) requireNoLeftovers(id, bundle string) {
	e.t.Helper()
	_, err := os.Stat(filepath.Join(e.root, id))
	require.True(e.t, os.IsNotExist(err), "state directory of %s left behind", id)
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(e.t, err)
	if bundle != "" {
		require.NotContains(e.t, string(mounts), bundle, "mount left behind")
	}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/" + id)
	more, _ := filepath.Glob("/sys/fs/cgroup/" + id)
	require.Empty(e.t, append(cgroups, more...), "cgroup left behind")
	require.Empty(e.t, fixture.ProcessesInCgroup(id), "process left behind")
}

// Polling bounds for require.Eventually: generous, since CI machines are slow.
const (
	waitLong = 20 * time.Second
	tick     = 20 * time.Millisecond
)

func itoa(n int) string { return fmt.Sprint(n) }

// cmrunWithStdout runs cmrun with its (and a detached container's) stdout going to f.
func (e *env) cmrunWithStdout(f *os.File, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "cmrun"), append([]string{"--root", e.root}, args...)...)
	stderr := e.tempFile()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = f, stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(e.t, err)
	}
	return result{stderr: readBack(stderr), code: code}
}

func decodeSpec(t *testing.T, data []byte) *specs.Spec {
	var s specs.Spec
	require.NoError(t, json.Unmarshal(data, &s))
	return &s
}

// badConfig is one broken configuration and the error it must cause.
type badConfig struct {
	name string
	edit func(*specs.Spec)
	want string
}

// requireCreateFails runs create on each broken configuration: one
// error line naming the problem, and nothing left behind.
func (e *env) requireCreateFails(tests []badConfig) {
	for _, tc := range tests {
		e.t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			bundle := e.bundle(tc.edit, "true")
			id := e.newID()
			t.Cleanup(func() { e.forceDelete(id) })
			requireOneLineError(t, e.cmrun("create", "--bundle", bundle, id), tc.want)
			e.requireNoLeftovers(id, bundle)
		})
	}
}
