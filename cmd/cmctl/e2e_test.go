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

	"cm/manager/api"
)

// TestCmctlAgainstDaemon runs the real programs: cmanagerd (with the fake
// shim as its shim binary) and cmctl, checking output and exit codes.
func TestCmctlAgainstDaemon(t *testing.T) {
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "cm/cmd/cmanagerd", "cm/cmd/cmctl", "cm/manager/shimtest/fakeshim")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	dir := t.TempDir()
	socket := filepath.Join(dir, "cm.sock")
	rootfs := filepath.Join(dir, "rootfs")
	require.NoError(t, os.Mkdir(rootfs, 0o755))
	daemon := exec.Command(filepath.Join(bin, "cmanagerd"), "--state-dir", filepath.Join(dir, "state"),
		"--socket", socket, "--shim-socket", filepath.Join(dir, "shim.sock"), "--shim", filepath.Join(bin, "fakeshim"),
		"--heartbeat", "100ms")
	var daemonLog bytes.Buffer
	daemon.Stderr = &daemonLog
	require.NoError(t, daemon.Start())
	t.Cleanup(func() {
		daemon.Process.Signal(os.Interrupt)
		daemon.Wait()
		if t.Failed() {
			t.Logf("cmanagerd log:\n%s", daemonLog.String())
		}
	})
	waitForSocket(t, socket)

	cmctl := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "cmctl"), append([]string{"--socket", socket}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		return stdout.String(), stderr.String(), code
	}
	ok := func(args ...string) string {
		t.Helper()
		stdout, stderr, code := cmctl(args...)
		require.Equal(t, 0, code, "cmctl %v: %s", args, stderr)
		require.Empty(t, stderr)
		return strings.TrimSpace(stdout)
	}

	id := ok("create", "--name", "job", "--rootfs", rootfs, "--memory", "64m", "--", "exit", "7")
	require.Regexp(t, `^[0-9a-f]{16}$`, id)
	require.Equal(t, id, ok("start", "job"))
	stdout, _, code := cmctl("wait", "job")
	require.Equal(t, 7, code, "wait exits with the container's exit code")
	require.Equal(t, "7", strings.TrimSpace(stdout))

	var inspect map[string]any
	require.NoError(t, json.Unmarshal([]byte(ok("inspect", id)), &inspect))
	for _, key := range []string{"id", "name", "state", "pid", "exitCode", "signal", "oomKilled"} {
		if key != "signal" { // omitted when zero
			require.Contains(t, inspect, key)
		}
	}
	require.Equal(t, "DEAD", inspect["state"])
	require.Equal(t, float64(7), inspect["exitCode"])

	var list []api.Container
	require.NoError(t, json.Unmarshal([]byte(ok("ps", "--json")), &list))
	require.JSONEq(t, ok("ps", "--json"), ok("--json", "ps"), "--json before the command counts too")
	require.Len(t, list, 1)
	table := ok("ps", "--state", "dead")
	require.Contains(t, table, "job")
	require.Contains(t, table, "DEAD")
	require.Contains(t, ok("logs", "job"), "exited with code 7")

	_, stderr, code := cmctl("start", "job")
	require.Equal(t, 1, code)
	require.Equal(t, fmt.Sprintf("cmctl: cannot start container %s: it is DEAD (start needs READY)\n", id), stderr)

	ok("create", "--name", "sleeper", "--rootfs", rootfs, "--", "sleep")
	ok("start", "sleeper")
	ok("kill", "sleeper", "TERM")
	_, _, code = cmctl("wait", "sleeper")
	require.Equal(t, 143, code)

	ok("create", "--name", "stubborn", "--rootfs", rootfs, "--", "ignore-term")
	ok("start", "stubborn")
	ok("stop", "--time", "0.2", "stubborn") // returns once it is DEAD
	require.NoError(t, json.Unmarshal([]byte(ok("inspect", "stubborn")), &inspect))
	require.Equal(t, float64(9), inspect["signal"], "SIGKILL after the grace period")

	var info api.Info
	require.NoError(t, json.Unmarshal([]byte(ok("info", "--json")), &info))
	require.Equal(t, 3, info.Containers)
	require.Equal(t, 4, info.Workers)

	ok("rm", "job")
	_, stderr, code = cmctl("inspect", "job")
	require.Equal(t, 1, code)
	require.Equal(t, "cmctl: container \"job\": no such container\n", stderr)

	// events --since replays: the first of this boot's events is the first line.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev := exec.CommandContext(ctx, filepath.Join(bin, "cmctl"), "--socket", socket, "events", "--since", fmt.Sprint(info.LastEvent-1))
	pipe, err := ev.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, ev.Start())
	line, err := bufio.NewReader(pipe).ReadString('\n')
	require.NoError(t, err)
	var event api.Event
	require.NoError(t, json.Unmarshal([]byte(line), &event))
	require.Equal(t, info.LastEvent, event.Seq)
	ev.Process.Kill()
	ev.Wait()
}

func waitForSocket(t *testing.T, path string) {
	t.Helper()
	c := api.NewClient(path)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, c.WaitUp(ctx))
}
