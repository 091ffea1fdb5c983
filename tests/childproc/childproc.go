// Package childproc runs one step of a unit test in a fresh copy of the
// test binary. Some steps change the calling process for good (a seccomp
// filter cannot be unloaded, dropped capabilities never come back), so
// they must not run in the test process itself.
//
// The parent passes a configuration as JSON in an environment variable;
// the child (the same test binary, caught by Serve in TestMain) runs the
// step on a locked OS thread, prints a report as one JSON line and, if
// the step asks, execs a program whose output follows that line.
//
// It owns only that round trip; what a step does is the test's business.
package childproc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Serve must be the first call of TestMain. In the test process (env
// unset) it returns at once. In a child it decodes the configuration,
// runs step, prints the report, execs then (when not empty) and never
// returns.
func Serve[C, R any](env string, step func(cfg *C) (report R, then []string)) {
	cfgJSON := os.Getenv(env)
	if cfgJSON == "" {
		return
	}
	// Capabilities and seccomp filters belong to a thread: the step, and
	// the exec after it, must happen on this one.
	runtime.LockOSThread()
	var cfg C
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "child config:", err)
		os.Exit(2)
	}
	report, then := step(&cfg)
	out, err := json.Marshal(report)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child report:", err)
		os.Exit(2)
	}
	fmt.Println(string(out))
	if len(then) > 0 {
		err := unix.Exec(then[0], then, os.Environ())
		fmt.Fprintln(os.Stderr, "exec:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// Start starts a child with cfg, its stdout and stderr captured, for a
// test that wants to watch it run.
func Start(t testing.TB, env string, cfg any) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cfgJSON, err := json.Marshal(cfg)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), env+"="+string(cfgJSON))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	return cmd, &stdout, &stderr
}

// Run runs a child with cfg to its end and returns its report and the
// output of the program it exec'd, if any.
func Run[R any](t testing.TB, env string, cfg any) (R, string) {
	t.Helper()
	cmd, stdout, stderr := Start(t, env, cfg)
	require.NoError(t, cmd.Wait(), "child failed: %s\n%s", stdout, stderr)
	first, rest, _ := strings.Cut(stdout.String(), "\n")
	var r R
	require.NoError(t, json.Unmarshal([]byte(first), &r), "child output: %s", stdout)
	return r, rest
}
