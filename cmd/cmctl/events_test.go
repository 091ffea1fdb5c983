package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// TestEventsSurviveDaemonRestart: cmctl events outlives a kill -9 and
// restart of cmanagerd: it reconnects with --since, prints the daemon's
// resync, then the current state of every container (the events missed
// would have led there), then carries on with the new daemon's events.
func TestEventsSurviveDaemonRestart(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "cm/cmd/cmanagerd", "cm/cmd/cmctl", "cm/manager/shimtest/fakeshim")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	dir := t.TempDir()
	socket := filepath.Join(dir, "cm.sock")
	rootfs := filepath.Join(dir, "rootfs")
	require.NoError(t, os.Mkdir(rootfs, 0o755))
	var daemonLog bytes.Buffer
	startDaemon := func() *exec.Cmd {
		d := exec.Command(filepath.Join(bin, "cmanagerd"), "--state-dir", filepath.Join(dir, "state"),
			"--socket", socket, "--shim-socket", filepath.Join(dir, "shim.sock"), "--shim", filepath.Join(bin, "fakeshim"),
			"--heartbeat", "100ms")
		d.Stderr = &daemonLog
		require.NoError(t, d.Start())
		waitForSocket(t, socket)
		return d
	}
	daemon := startDaemon()
	t.Cleanup(func() {
		// The fake shims outlive the daemon: remove their containers
		// first, or they still write in the state directory as it goes.
		c := api.NewClient(socket)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if list, err := c.List(ctx); err == nil {
			for _, ctr := range list {
				c.Delete(ctx, ctr.ID, true)
			}
		}
		cancel()
		c.Close()
		daemon.Process.Signal(os.Interrupt)
		daemon.Wait()
		if t.Failed() {
			t.Logf("cmanagerd log:\n%s", daemonLog.String())
		}
	})
	client := api.NewClient(socket)
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	info, err := client.Info(ctx)
	require.NoError(t, err)
	events := exec.CommandContext(ctx, filepath.Join(bin, "cmctl"), "--socket", socket, "events", "--since", fmt.Sprint(info.LastEvent))
	var stderr bytes.Buffer
	events.Stderr = &stderr
	pipe, err := events.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, events.Start())
	defer func() { events.Process.Kill(); events.Wait() }()
	lines := make(chan api.Event)
	go func() {
		defer close(lines)
		r := bufio.NewReader(pipe)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			var ev api.Event
			if json.Unmarshal([]byte(line), &ev) == nil {
				lines <- ev
			}
		}
	}()
	next := func(what string, match func(api.Event) bool) api.Event {
		t.Helper()
		for {
			select {
			case ev, ok := <-lines:
				require.True(t, ok, "cmctl events ended while waiting for %s; stderr: %s", what, stderr.String())
				if match(ev) {
					return ev
				}
			case <-ctx.Done():
				t.Fatalf("no %s; stderr: %s", what, stderr.String())
			}
		}
	}

	first, err := client.Create(ctx, api.CreateRequest{Rootfs: rootfs, Args: []string{"sleep"}})
	require.NoError(t, err)
	next("the first create", func(ev api.Event) bool { return ev.Type == api.EventCreated && ev.ID == first.ID })
	_, err = client.Wait(ctx, first.ID, manager.Ready)
	require.NoError(t, err)

	require.NoError(t, daemon.Process.Kill())
	daemon.Wait()
	daemon = startDaemon()

	next("a resync", func(ev api.Event) bool { return ev.Type == api.EventResync })
	cur := next("the first container's current state", func(ev api.Event) bool { return ev.Type == eventCurrent })
	require.Equal(t, first.ID, cur.ID)
	second, err := client.Create(ctx, api.CreateRequest{Rootfs: rootfs, Args: []string{"sleep"}})
	require.NoError(t, err)
	next("the second create", func(ev api.Event) bool { return ev.Type == api.EventCreated && ev.ID == second.ID })
	require.Contains(t, stderr.String(), "reconnecting with --since")
	require.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line about the lost connection: %s", stderr.String())
}
