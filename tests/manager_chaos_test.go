package tests

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/manager"
	"cm/manager/api"
)

// chaosLifecycles is how many container lifecycles TestManagerChaos runs:
// a short storm in make test, CM_CHAOS_LIFECYCLES (make chaos) for more.
func chaosLifecycles(t *testing.T) int {
	if v := os.Getenv("CM_CHAOS_LIFECYCLES"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "CM_CHAOS_LIFECYCLES")
		return n
	}
	return 100
}

// TestManagerChaos runs container lifecycles (create, start, exit with a
// known code, rm) from several clients while the manager is killed with
// SIGKILL at random points, every 0.05-0.5 s, and restarted at once; now
// and then, instead of a kill, its state directory (a small tmpfs) is
// filled or its descriptors are exhausted for a moment. Then it damages
// and deletes the records of live containers and restarts it once more.
// After the storm: every acknowledged container ran and has its exit
// code, none was LOST, none was created twice, every restart was
// accepted, and nothing is left: no process, cgroup, mount, directory.
func TestManagerChaos(t *testing.T) {
	lifecycles := chaosLifecycles(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	require.NoError(t, os.Mkdir(state, 0o700))
	require.NoError(t, unix.Mount("tmpfs", state, "tmpfs", 0, "size=16m,mode=0700"))
	t.Cleanup(func() { unix.Unmount(state, unix.MNT_DETACH) }) // after the manager's cleanup: registered first
	m := startManager(t, dir, "--heartbeat", "500ms", "--restart-grace", "20s", "--log-level", "info")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var (
		next     atomic.Int64 // the next lifecycle to run
		done     atomic.Int64
		mu       sync.Mutex
		ids      = map[string]string{} // name -> id, every container ever acknowledged
		failures []string
		refused  atomic.Int64 // containers DEAD with the reason they never ran
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	var workers sync.WaitGroup
	for range 4 {
		workers.Go(func() {
			c := api.NewClient(m.Socket)
			defer c.Close()
			for ctx.Err() == nil {
				n := int(next.Add(1)) - 1
				if n >= lifecycles {
					return
				}
				name := fmt.Sprintf("chaos-%d", n)
				code := n%50 + 1
				id, refusal, err := chaosLifecycle(ctx, c, name, code)
				if refusal != "" && refused.Add(1) <= 5 {
					t.Logf("%s refused: %s", name, refusal)
				}
				if id != "" {
					mu.Lock()
					ids[name] = id
					mu.Unlock()
				}
				if err != nil {
					fail("%s (%s): %v", name, id, err)
				}
				done.Add(1)
			}
		})
	}

	// The storm, from this goroutine: m.restart fails the test if a
	// restart is refused.
	kills, fills, starves := 0, 0, 0
	for done.Load() < int64(lifecycles) && ctx.Err() == nil {
		time.Sleep(time.Duration(50+rand.IntN(450)) * time.Millisecond)
		switch r := rand.IntN(8); {
		case r == 0:
			fills++
			filler := fillDir(t, state)
			time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
			require.NoError(t, os.Remove(filler))
		case r == 1:
			starves++
			starveDescriptors(t, m.cmd.Process.Pid, time.Duration(100+rand.IntN(200))*time.Millisecond)
		default:
			kills++
			m.kill9()
			m.restart(m.StateDir)
		}
	}
	workers.Wait()
	t.Logf("%d lifecycles (%d refused with a reason); %d kill -9 and restarts, %d full state directories, %d descriptor exhaustions",
		done.Load(), refused.Load(), kills, fills, starves)
	require.Empty(t, failures)
	require.NoError(t, ctx.Err())

	// Damaged and deleted records of live containers: the manager starts,
	// reports them and their shims adopt them.
	var live []api.Container
	for i := range 3 {
		live = append(live, m.run("sleep", "1000"))
		ids[fmt.Sprintf("live-%d", i)] = live[i].ID
	}
	m.kill9()
	record := func(i int) string { return filepath.Join(m.StateDir, "containers", live[i].ID, "state.json") }
	require.NoError(t, os.WriteFile(record(0), []byte(`{"id": "trunc`), 0o600))
	require.NoError(t, os.WriteFile(record(1), nil, 0o600))
	require.NoError(t, os.Remove(record(2)))
	m.restart(m.StateDir)
	c := api.NewClient(m.Socket)
	defer c.Close()
	for _, ct := range live {
		got := m.waitState(ct.ID, manager.Running)
		require.Equal(t, ct.ShimPid, got.ShimPid, "adopted by its own shim")
	}
	require.FileExists(t, record(0)+".damaged")

	// Nothing is LOST, nothing was created twice, and everything goes away.
	all, err := c.List(ctx)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, ct := range all {
		require.NotEqual(t, manager.Lost, ct.State, "%s: %+v", ct.ID, ct)
		if ct.Name != "" {
			require.False(t, seen[ct.Name], "two containers named %s", ct.Name)
			seen[ct.Name] = true
		}
		_, err := c.Delete(ctx, ct.ID, true)
		require.NoError(t, err)
	}
	for _, id := range ids {
		m.requireContainerGone(id)
	}
	m.requireNoShims()
	left, err := os.ReadDir(filepath.Join(m.StateDir, "containers"))
	require.NoError(t, err)
	require.Empty(t, left, "container directories left")
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, dir) && !strings.Contains(line, " "+state+" ") {
			t.Errorf("mount left: %s", line)
		}
	}
}

// chaosLifecycle runs one container from create to rm, retrying every
// step through the manager's deaths, and checks its exit code. Every step
// is safe to retry: create by a name (a retry of a create that was made
// gets 409 and looks it up), start only from READY, rm until it is gone.
// refusal is the reason of a container refused before it ran (DEAD with
// an error: its launch ran out of descriptors or space, say).
func chaosLifecycle(ctx context.Context, c *api.Client, name string, code int) (id, refusal string, err error) {
	retry := func(what string, step func() (bool, error)) error {
		var last error
		for ctx.Err() == nil {
			ok, err := step()
			if err == nil && ok {
				return nil
			}
			if err != nil {
				last = err
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("%s: gave up: %v", what, last)
	}
	err = retry("create", func() (bool, error) {
		ct, err := c.Create(ctx, api.CreateRequest{Name: name, Rootfs: managerRootfs(), Args: []string{"sh", "-c", "exit " + strconv.Itoa(code)}})
		if err == nil {
			id = ct.ID
			return true, nil
		}
		if got, gerr := c.Get(ctx, name); gerr == nil {
			id = got.ID // made by an earlier attempt whose answer was lost
			return true, nil
		}
		return false, err
	})
	if err != nil {
		return id, "", err
	}
	var ct api.Container
	err = retry("wait until ready", func() (bool, error) {
		var err error
		ct, err = c.Wait(ctx, id, manager.Ready, manager.Dead)
		return err == nil, err
	})
	if err != nil {
		return id, "", err
	}
	if ct.State == manager.Dead && ct.Error != "" {
		// Refused with a reason (a launch that ran out of descriptors):
		// allowed, and it must still be removable.
		return id, ct.Error, chaosRemove(ctx, c, id)
	}
	err = retry("start", func() (bool, error) {
		got, err := c.Get(ctx, id)
		if err != nil {
			return false, err
		}
		if got.State != manager.Ready {
			return true, nil // started by an attempt whose answer was lost
		}
		_, err = c.Start(ctx, id)
		return err == nil, err
	})
	if err != nil {
		return id, "", err
	}
	err = retry("wait until dead", func() (bool, error) {
		var err error
		ct, err = c.Wait(ctx, id, manager.Dead)
		return err == nil, err
	})
	if err != nil {
		return id, "", err
	}
	if ct.ExitCode != code || ct.Error != "" {
		return id, "", fmt.Errorf("exit code %d (error %q), want %d", ct.ExitCode, ct.Error, code)
	}
	return id, "", chaosRemove(ctx, c, id)
}

// chaosRemove removes a container, until it is gone.
func chaosRemove(ctx context.Context, c *api.Client, id string) error {
	for ctx.Err() == nil {
		_, err := c.Delete(ctx, id, false)
		var ae *api.Error
		if err == nil || (errors.As(err, &ae) && ae.Status == 404) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("rm %s: gave up", id)
}

// fillDir fills the filesystem of dir with one file and returns its path.
func fillDir(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			require.ErrorIs(t, err, unix.ENOSPC)
			break
		}
	}
	for {
		if _, err := f.Write([]byte{0}); err != nil {
			break
		}
	}
	return path
}

// starveDescriptors lowers the open-file limit of pid to what it has open
// for a while, so its next open, accept or pipe fails with EMFILE.
func starveDescriptors(t *testing.T, pid int, d time.Duration) {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	var old unix.Rlimit
	low := unix.Rlimit{Cur: uint64(len(fds)), Max: 0}
	require.NoError(t, unix.Prlimit(pid, unix.RLIMIT_NOFILE, nil, &old))
	low.Max = old.Max
	require.NoError(t, unix.Prlimit(pid, unix.RLIMIT_NOFILE, &low, nil))
	time.Sleep(d)
	require.NoError(t, unix.Prlimit(pid, unix.RLIMIT_NOFILE, &old, nil))
}
