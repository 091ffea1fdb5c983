package shim_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/bench"
	"cm/runtime"
	"cm/shim/proto"
)

// TestShimFootprint logs what one shim costs: its resident memory with a
// running container, and the time from running cmshim to RUNNING.
// Nothing is asserted about the numbers (machines differ); the memory
// must only be readable and plausible.
func TestShimFootprint(t *testing.T) {
	e := newEnv(t, time.Second)
	bundle := e.bundle(nil, "sleep", "1000")
	began := time.Now()
	p := e.launch(bundle)
	p.start(t)
	e.manager.waitReport(proto.StateRunning)
	t.Logf("cmshim start to RUNNING reported: %v", time.Since(began).Round(time.Microsecond))
	// The shim gives back what create needed a second after ready
	// (shim/memory.go): read what it costs from then on.
	time.Sleep(1500 * time.Millisecond)

	mem, err := bench.ProcMemory(p.pid)
	require.NoError(t, err)
	require.NotZero(t, mem.RSS)
	t.Logf("shim VmRSS %d kB (RssAnon %d kB; the rest is shared with every other shim), Pss %d kB",
		mem.RSS, mem.Anon, mem.Pss)
}

// BenchmarkCreateStart compares the two ways a shim can make a container
// run: the runtime package in process (what cmshim does) or the cmrun
// commands. Each iteration creates, starts and deletes a busybox
// container; only create+start is timed.
func BenchmarkCreateStart(b *testing.B) {
	dir, err := os.MkdirTemp("", "cmshim-bench-")
	require.NoError(b, err)
	defer os.RemoveAll(dir)
	e := &env{t: b, dir: dir, rtRoot: filepath.Join(dir, "rt")}
	bundle := e.bundle(nil, "sleep", "1000")
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	require.NoError(b, err)
	defer null.Close()
	cmrun := func(args ...string) {
		// Not a pipe for the output: the container inherits it from
		// "cmrun create" and would keep it open.
		cmd := exec.Command(filepath.Join(binDir, "cmrun"), append([]string{"--root", e.rtRoot}, args...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
		require.NoError(b, cmd.Run(), "cmrun %v", args)
	}
	ways := []struct {
		name        string
		createStart func(id string)
	}{
		{"in-process", func(id string) {
			_, err := runtime.Create(runtime.CreateOptions{
				SpawnOptions: runtime.SpawnOptions{Root: e.rtRoot, ID: id, Stdio: [3]*os.File{null, null, null}},
				BundleDir:    bundle,
			})
			require.NoError(b, err)
			_, err = runtime.Start(e.rtRoot, id)
			require.NoError(b, err)
		}},
		{"cmrun", func(id string) {
			cmrun("create", "--bundle", bundle, id)
			cmrun("start", id)
		}},
	}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("bench-%d-%s-%d", os.Getpid(), w.name, i)
				w.createStart(id)
				b.StopTimer()
				require.NoError(b, runtime.Delete(e.rtRoot, id, true))
				reapChildren() // the in-process init was our child
				b.StartTimer()
			}
		})
	}
}

func reapChildren() {
	for {
		var ws unix.WaitStatus
		if pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil); err != nil || pid <= 0 {
			return
		}
	}
}
