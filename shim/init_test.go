package shim_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/shim/proto"
)

// TestInitSignals: "sleep" as PID 1 ignores SIGTERM (the kernel drops
// signals PID 1 has no handler for); with --init, cminit is PID 1 and
// forwards SIGTERM to sleep, which dies of it.
func TestInitSignals(t *testing.T) {
	tests := []struct {
		name    string
		init    bool
		signals []unix.Signal
		want    proto.ExitStatus
	}{
		// SIGTERM is dropped, so the SIGKILL after it is what kills.
		{name: "without init", init: false, signals: []unix.Signal{unix.SIGTERM, unix.SIGKILL}, want: proto.ExitStatus{ExitCode: 137, Signal: 9}},
		// cminit exits with 128+15 when its child dies of SIGTERM.
		{name: "with init", init: true, signals: []unix.Signal{unix.SIGTERM}, want: proto.ExitStatus{ExitCode: 143}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, time.Second)
			var flags []string
			if tc.init {
				flags = append(flags, "--init")
			}
			p := e.launch(e.bundle(nil, "sh", "-c", "touch /dev/shm/ready; exec sleep 1000"), flags...)
			initPid := p.start(t)
			waitFile(t, initPid, "/dev/shm/ready")
			for _, sig := range tc.signals {
				require.NoError(t, p.control.Signal(t.Context(), sig))
			}
			require.Equal(t, tc.want, e.manager.waitReport(proto.StateDead).ExitStatus)
		})
	}
}

// TestInitReapsZombies: a process orphaned in the container is adopted by
// PID 1. cminit reaps it when it exits; sleep as PID 1 leaves a zombie.
func TestInitReapsZombies(t *testing.T) {
	// The subshell forks the orphan and exits at once, so the orphan is
	// reparented to PID 1; it exits after the test saw it.
	script := `(sh -c 'while [ ! -e /dev/shm/go ]; do sleep 0.02; done; touch /dev/shm/done' &); touch /dev/shm/ready; exec sleep 1000`
	for _, withInit := range []bool{false, true} {
		t.Run("init="+strconv.FormatBool(withInit), func(t *testing.T) {
			e := newEnv(t, time.Second)
			var flags []string
			if withInit {
				flags = append(flags, "--init")
			}
			p := e.launch(e.bundle(nil, "sh", "-c", script), flags...)
			initPid := p.start(t)
			waitFile(t, initPid, "/dev/shm/ready")
			// PID 1 has two children now: the orphan and, with cminit, sleep.
			want := 1
			if withInit {
				want = 2
			}
			require.Eventually(t, func() bool { return len(children(initPid)) == want }, waitLong, tick,
				"children of PID 1: %v", children(initPid))

			require.NoError(t, os.WriteFile(filepath.Join("/proc", itoa(initPid), "root/dev/shm/go"), nil, 0o644))
			waitFile(t, initPid, "/dev/shm/done")
			if withInit {
				// Reaped: only sleep is left.
				require.Eventually(t, func() bool {
					c := children(initPid)
					return len(c) == 1 && !c[0].zombie
				}, waitLong, tick, "children of cminit: %v", children(initPid))
			} else {
				require.Eventually(t, func() bool {
					c := children(initPid)
					return len(c) == 1 && c[0].zombie
				}, waitLong, tick, "children of sleep: %v", children(initPid))
			}
		})
	}
}

func waitFile(t *testing.T, initPid int, path string) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join("/proc", itoa(initPid), "root", path))
		return err == nil
	}, waitLong, tick, "%s never appeared in the container", path)
}

type child struct {
	pid    string
	zombie bool
}

// children lists the processes whose parent is pid, zombies included.
func children(pid int) []child {
	var out []child
	files, _ := filepath.Glob("/proc/[0-9]*/status")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(data), "\nPPid:\t"+itoa(pid)+"\n") {
			continue
		}
		out = append(out, child{pid: filepath.Base(filepath.Dir(f)), zombie: strings.Contains(string(data), "State:\tZ")})
	}
	return out
}
