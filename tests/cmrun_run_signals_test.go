package tests

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestRunForwardsSignals sends signals to a foreground "cmrun run", and to
// a foreground "cmrun exec" in a running container, and checks that the
// program, which traps them, got each one.
func TestRunForwardsSignals(t *testing.T) {
	e := newEnv(t)
	host, _ := e.detached(e.bundle(nil, "sleep", "300")) // for exec
	t.Cleanup(func() { e.forceDelete(host) })
	signals := []struct {
		name string
		sig  unix.Signal
	}{
		{"SIGTERM", unix.SIGTERM},
		{"SIGHUP", unix.SIGHUP},
		{"SIGUSR1", unix.SIGUSR1},
		{"SIGPWR", unix.SIGPWR},
		{"RTMIN+3", unix.Signal(37)},
	}
	for _, verb := range []string{"run", "exec"} {
		for _, tc := range signals {
			t.Run(verb+" "+tc.name, func(t *testing.T) {
				e := &env{t: t, root: e.root, dir: e.dir}
				n := strconv.Itoa(int(tc.sig))
				// The exit code says which signal arrived; "ready" that the trap is set.
				script := []string{"sh", "-c", "trap 'exit " + n + "' " + n + "; echo ready; while :; do sleep 0.05; done"}
				args := []string{"--root", e.root, "--debug", "exec", host}
				if verb == "run" {
					id := e.newID()
					t.Cleanup(func() { e.forceDelete(id) })
					args = []string{"--root", e.root, "--debug", "run", "--bundle", e.bundle(nil, script...), id}
				} else {
					args = append(args, script...)
				}
				stdout, stderr := e.tempFile(), e.tempFile()
				defer stdout.Close()
				defer stderr.Close()
				cmd := exec.Command(filepath.Join(binDir, "cmrun"), args...)
				cmd.Stdout, cmd.Stderr = stdout, stderr
				require.NoError(t, cmd.Start())
				timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
				defer timer.Stop()
				require.Eventually(t, func() bool { return strings.Contains(readBack(stdout), "ready") }, 30*time.Second, 10*time.Millisecond)
				// Signals other than those that end cmrun are caught once the
				// program runs, not before: wait until cmrun says it has.
				require.Eventually(t, func() bool { return strings.Contains(readBack(stderr), "every signal is caught") }, 10*time.Second, 10*time.Millisecond)
				require.NoError(t, cmd.Process.Signal(tc.sig))
				timer.Reset(10 * time.Second) // a signal cmrun drops would leave the loop running
				err := cmd.Wait()
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee, "stderr: %s", readBack(stderr))
				require.Equal(t, int(tc.sig), ee.ExitCode(), "stderr: %s", readBack(stderr))
			})
		}
	}
}
