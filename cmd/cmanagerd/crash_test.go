package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

var binDir string // cmanagerd and fakeshim, built by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cmanagerd-test-")
	if err != nil {
		panic(err)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		build := exec.Command("go", "build", "-o", dir+"/", "cm/cmd/cmanagerd", "cm/manager/shimtest/fakeshim")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
			return 1
		}
		binDir = dir
		return m.Run()
	}()
	os.Exit(code)
}

// daemonProc is a cmanagerd process on a test directory.
type daemonProc struct {
	cmd    *exec.Cmd
	log    *bytes.Buffer
	client *api.Client
}

func startDaemon(t *testing.T, dir string) *daemonProc {
	t.Helper()
	socket := filepath.Join(dir, "cm.sock")
	cmd := exec.Command(filepath.Join(binDir, "cmanagerd"), "--state-dir", filepath.Join(dir, "state"),
		"--socket", socket, "--shim-socket", filepath.Join(dir, "shim.sock"), "--shim", filepath.Join(binDir, "fakeshim"),
		"--heartbeat", "100ms", "--heartbeat-ttl", "1s", "--restart-grace", "3s")
	p := &daemonProc{cmd: cmd, log: &bytes.Buffer{}, client: api.NewClient(socket)}
	cmd.Stderr = p.log
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("cmanagerd log:\n%s", p.log)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, p.client.WaitUp(ctx), "%s", p.log)
	return p
}

// TestCrashAndRestart kills cmanagerd with SIGKILL in the middle of a burst
// of creates and transitions, restarts it on the same state directory, and
// checks that everything it acknowledged is still there; containers whose
// shim stays silent become LOST after the grace period, the others are
// adopted by their re-registering shims.
func TestCrashAndRestart(t *testing.T) {
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	require.NoError(t, os.Mkdir(rootfs, 0o755))
	d := startDaemon(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	create := func(c *api.Client, args ...string) (api.Container, error) {
		ct, err := c.Create(ctx, api.CreateRequest{Rootfs: rootfs, Args: args})
		if err != nil {
			return ct, err
		}
		return c.Wait(ctx, ct.ID, manager.Ready)
	}

	// Before the crash: containers in each settled state.
	exitCodes := map[string]int{} // acknowledged exit statuses
	var alive, ready, silent []api.Container
	for i := range 3 {
		ct, err := create(d.client, "exit", fmt.Sprint(10+i))
		require.NoError(t, err)
		_, err = d.client.Start(ctx, ct.ID)
		require.NoError(t, err)
		ct, err = d.client.Wait(ctx, ct.ID)
		require.NoError(t, err)
		require.Equal(t, 10+i, ct.ExitCode)
		exitCodes[ct.ID] = ct.ExitCode
	}
	for i := range 6 {
		ct, err := create(d.client, "sleep")
		require.NoError(t, err)
		switch {
		case i < 2:
			ready = append(ready, ct)
			continue
		case i < 4:
			alive = append(alive, ct)
		default:
			silent = append(silent, ct)
		}
		ct, err = d.client.Start(ctx, ct.ID)
		require.NoError(t, err)
		require.Equal(t, manager.Running, ct.State)
	}

	// The burst: four clients create, start and wait, recording what the
	// daemon acknowledged, until it dies under them.
	var (
		mu      sync.Mutex
		created []string
		started = map[string]bool{}
		acks    atomic.Int64
		wg      sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			c := api.NewClient(filepath.Join(dir, "cm.sock"))
			defer c.Close()
			for i := 0; ; i++ {
				ct, err := c.Create(ctx, api.CreateRequest{Rootfs: rootfs, Args: []string{"exit", fmt.Sprint(40 + w)}})
				if err != nil {
					return
				}
				mu.Lock()
				created = append(created, ct.ID)
				mu.Unlock()
				acks.Add(1)
				if _, err := c.Wait(ctx, ct.ID, manager.Ready); err != nil {
					return
				}
				if _, err := c.Start(ctx, ct.ID); err != nil {
					return
				}
				mu.Lock()
				started[ct.ID] = true
				mu.Unlock()
				acks.Add(1)
				done, err := c.Wait(ctx, ct.ID)
				if err != nil {
					return
				}
				mu.Lock()
				exitCodes[ct.ID] = done.ExitCode
				mu.Unlock()
				acks.Add(1)
			}
		})
	}
	for acks.Load() < 40 {
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
	wg.Wait()
	d.cmd.Wait()

	// The silent containers' shims die with it.
	for _, ct := range silent {
		require.Positive(t, ct.ShimPid)
		require.NoError(t, syscall.Kill(ct.ShimPid, syscall.SIGKILL))
	}

	d = startDaemon(t, dir)
	info, err := d.client.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), info.Boot)

	mu.Lock()
	defer mu.Unlock()
	t.Logf("burst: %d creates, %d starts, %d exit statuses acknowledged before SIGKILL", len(created), len(started), len(exitCodes)-3)
	for _, id := range created {
		_, err := d.client.Get(ctx, id)
		require.NoError(t, err, "acknowledged create of %s lost", id)
	}
	for id, code := range exitCodes {
		ct, err := d.client.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, manager.Dead, ct.State, "%s", id)
		require.Equal(t, code, ct.ExitCode, "acknowledged exit status of %s", id)
	}
	for _, ct := range silent {
		got, err := d.client.Wait(ctx, ct.ID, manager.Lost)
		require.NoError(t, err)
		require.Equal(t, manager.Lost, got.State, "%s: its shim is dead", ct.ID)
	}
	// The grace period is over: every other container was adopted.
	for _, c := range []struct {
		list  []api.Container
		state manager.State
	}{{alive, manager.Running}, {ready, manager.Ready}} {
		for _, ct := range c.list {
			got, err := d.client.Get(ctx, ct.ID)
			require.NoError(t, err)
			require.Equal(t, c.state, got.State, "%s", ct.ID)
			require.False(t, got.Unconfirmed, "%s: its shim re-registered", ct.ID)
		}
	}
	// No acknowledged create is LOST, not even one whose shim the crash
	// kept from being launched: the restarted daemon launched it.
	for _, id := range created {
		got, err := d.client.Get(ctx, id)
		require.NoError(t, err)
		require.NotEqual(t, manager.Lost, got.State, "acknowledged create %s", id)
	}
	for id := range started {
		got, err := d.client.Get(ctx, id)
		require.NoError(t, err)
		require.Contains(t, []manager.State{manager.Running, manager.Dead}, got.State, "acknowledged start of %s", id)
	}
}
