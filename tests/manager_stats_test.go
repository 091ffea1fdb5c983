package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// TestManagerStats (issue 20): stats and /metrics of a real container
// whose work the test drives through two fifos bind-mounted at /ctl: it
// waits (blocked, using no CPU), then fills 20 MiB of tmpfs, says so, and
// spins. The numbers must move with it.
func TestManagerStats(t *testing.T) {
	dir := t.TempDir()
	m := startManager(t, dir, "--metrics-listen", "127.0.0.1:0")
	ctl := filepath.Join(dir, "ctl")
	require.NoError(t, os.Mkdir(ctl, 0o755))
	for _, f := range []string{"go", "ack"} {
		require.NoError(t, syscall.Mkfifo(filepath.Join(ctl, f), 0o666))
	}
	script := `sleep 1000 & sleep 1000 &
read x < /ctl/go
dd if=/dev/zero of=/dev/shm/fill bs=1M count=20 2>/dev/null
echo filled > /ctl/ack
while :; do :; done`
	bundle := newEnv(t).bundle(func(s *specs.Spec) {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/ctl", Type: "bind", Source: ctl, Options: []string{"rbind", "rw"}})
	}, "sh", "-c", script)
	require.NoError(t, os.Mkdir(filepath.Join(bundle, "rootfs", "ctl"), 0o755))

	ct := m.create(api.CreateRequest{Name: "worker", Bundle: bundle})
	ct, err := m.Client.Start(m.ctx(), ct.ID)
	require.NoError(t, err)
	require.Equal(t, manager.Running, ct.State)

	// sh and its two sleeps.
	var idle api.Stats
	require.Eventually(t, func() bool {
		idle, err = m.Client.Stats(context.Background(), ct.ID)
		return err == nil && idle.Pids.Current == 3
	}, waitLong, tick, "pids of the container: %+v %v", idle.Pids, err)
	require.Equal(t, ct.ID, idle.ID)
	require.Equal(t, "worker", idle.Name)
	require.NotZero(t, idle.Memory.Limit, "the host's memory when the cgroup has no limit")
	require.Nil(t, idle.Net, "a container with only a loopback has no network I/O")

	// Fill the tmpfs: memory grows by the 20 MiB it holds.
	fifoWrite(t, filepath.Join(ctl, "go"))
	require.Equal(t, "filled\n", fifoRead(t, filepath.Join(ctl, "ack")))
	filled, err := m.Client.Stats(m.ctx(), ct.ID)
	require.NoError(t, err)
	require.GreaterOrEqual(t, filled.Memory.Usage, idle.Memory.Usage+15<<20,
		"memory after writing 20 MiB to /dev/shm: %d, before: %d", filled.Memory.Usage, idle.Memory.Usage)

	// Now it spins: its CPU time grows between two reads.
	require.Eventually(t, func() bool {
		busy, err := m.Client.Stats(context.Background(), ct.ID)
		return err == nil && busy.CPU.UsageNanos >= filled.CPU.UsageNanos+uint64(100*time.Millisecond)
	}, waitLong, tick, "CPU time of a busy loop never grew")

	t.Run("cmctl stats --no-stream", func(t *testing.T) {
		m := m.in(t)
		out := m.cmctlOK("stats", "--no-stream", ct.ID)
		t.Logf("cmctl stats --no-stream:\n%s", out)
		lines := strings.Split(out, "\n")
		require.Len(t, lines, 2, "one header and one row:\n%s", out)
		require.Regexp(t, `^ID\s+NAME\s+CPU %\s+MEM USAGE / LIMIT\s+MEM %\s+NET IO\s+BLOCK IO\s+PIDS$`, lines[0])
		row := regexp.MustCompile(`^(\S+)\s+worker\s+([0-9.]+)%\s+(\S+) / (\S+)\s+([0-9.]+)%\s+-- / --\s+\S+ / \S+\s+(\d+)$`).FindStringSubmatch(lines[1])
		require.NotNil(t, row, "row: %q", lines[1])
		require.Equal(t, ct.ID, row[1])
		cpu, err := strconv.ParseFloat(row[2], 64)
		require.NoError(t, err)
		require.Positive(t, cpu, "CPU %% of a busy loop")
		require.Regexp(t, `^[0-9.]+MB$`, row[3], "20 MiB of tmpfs is in the MB")
		require.Equal(t, "3", row[6], "pids")

		// No ID: every running container, here the one.
		all := m.cmctlOK("stats", "--no-stream")
		require.Len(t, strings.Split(all, "\n"), 2, "%s", all)
		require.Contains(t, all, ct.ID)

		var rows []struct {
			api.Stats
			CPUPercent float64 `json:"cpuPercent"`
			MemPercent float64 `json:"memPercent"`
		}
		require.NoError(t, json.Unmarshal([]byte(m.cmctlOK("stats", "--no-stream", "--json", "worker")), &rows))
		require.Len(t, rows, 1)
		require.Equal(t, ct.ID, rows[0].ID)
		require.Positive(t, rows[0].CPUPercent)
		require.Positive(t, rows[0].MemPercent)
		require.EqualValues(t, 3, rows[0].Pids.Current)
		require.GreaterOrEqual(t, rows[0].Memory.Usage, uint64(15<<20))
	})

	t.Run("cmctl stats streams until interrupted", func(t *testing.T) {
		cmd := exec.Command(filepath.Join(binDir, "cmctl"), "--socket", m.Socket, "stats", ct.ID)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		guard := time.AfterFunc(waitLong, func() { cmd.Process.Kill() })
		defer guard.Stop()
		// Two tables, each a header and the container's row.
		sc := bufio.NewScanner(stdout)
		var lines []string
		for len(lines) < 4 && sc.Scan() {
			lines = append(lines, sc.Text())
		}
		require.Len(t, lines, 4, "two refreshes; stderr: %s", stderr.String())
		require.True(t, strings.HasPrefix(lines[0], "ID ") && strings.HasPrefix(lines[2], "ID "), "%q", lines)
		require.True(t, strings.HasPrefix(lines[1], ct.ID) && strings.HasPrefix(lines[3], ct.ID), "%q", lines)
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		go io.Copy(io.Discard, stdout)
		require.NoError(t, cmd.Wait(), "Ctrl-C ends the stream quietly: %s", stderr.String())
		require.Empty(t, stderr.String())
	})

	// /metrics on the client socket and on the TCP address, in the
	// Prometheus text format.
	metrics := scrape(t, m)
	require.Equal(t, 1.0, metricValue(t, metrics, "cm_containers", map[string]string{"state": "RUNNING"}))
	toRunning := metricValue(t, metrics, "cm_transitions_total", map[string]string{"from": "READY", "to": "RUNNING"})
	require.Equal(t, 1.0, toRunning)
	require.Positive(t, metricValue(t, metrics, "cm_container_cpu_seconds_total", map[string]string{"id": ct.ID, "name": "worker"}))
	require.GreaterOrEqual(t, metricValue(t, metrics, "cm_container_memory_bytes", map[string]string{"id": ct.ID, "name": "worker"}), float64(15<<20))
	require.EqualValues(t, 1, metrics["cm_create_seconds"].GetMetric()[0].GetHistogram().GetSampleCount())
	require.Contains(t, metrics, "cm_shim_heartbeats_missed_total")
	require.Contains(t, metrics, "cm_containers_lost_total")

	addr := regexp.MustCompile(`msg="serving metrics" address=(\S+)`).FindStringSubmatch(m.log())
	require.NotNil(t, addr, "the daemon names its metrics address:\n%s", m.log())
	resp, err := http.Get("http://" + addr[1] + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	overTCP := parseMetrics(t, string(body))
	require.Equal(t, 1.0, metricValue(t, overTCP, "cm_containers", map[string]string{"state": "RUNNING"}))

	// Killed, it is DEAD: stats refuse with the state table's words, the
	// transition is counted and its series are gone.
	m.cmctlOK("kill", ct.ID)
	m.waitState(ct.ID, manager.Dead)
	requireOneLineError(t, m.cmctl("stats", "--no-stream", ct.ID),
		"cmctl: cannot stats container "+ct.ID+": it is DEAD (stats needs RUNNING or STOPPING or PAUSED)")
	_, err = m.Client.Stats(m.ctx(), ct.ID)
	require.Equal(t, http.StatusConflict, api.StatusOf(err), "%v", err)
	metrics = scrape(t, m)
	require.Equal(t, 0.0, metricValue(t, metrics, "cm_containers", map[string]string{"state": "RUNNING"}))
	require.Equal(t, 1.0, metricValue(t, metrics, "cm_containers", map[string]string{"state": "DEAD"}))
	require.Equal(t, 1.0, metricValue(t, metrics, "cm_transitions_total", map[string]string{"from": "RUNNING", "to": "DEAD"}))
	require.NotContains(t, metrics, "cm_container_cpu_seconds_total", "a dead container has no CPU series")

	m.cmctlOK("rm", ct.ID)
	m.requireContainerGone(ct.ID)
	m.requireEmpty()
}

// TestManagerStatsBadInput: one clear line each, nothing changed.
func TestManagerStatsBadInput(t *testing.T) {
	m := startManager(t, t.TempDir())
	requireOneLineError(t, m.cmctl("stats", "--no-stream", "nosuch"), `cmctl: container "nosuch": no such container`)
	status, body, err := m.Client.Raw(m.ctx(), http.MethodGet, "/v1/containers/nosuch/stats", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, status)
	require.JSONEq(t, `{"error":"container \"nosuch\": no such container"}`, string(body))
	requireOneLineError(t, m.cmctl("stats", "--interval", "0"), "cmctl: --interval: 0: want a number of seconds, at least 1")

	ready := m.create(api.CreateRequest{Args: []string{"true"}})
	requireOneLineError(t, m.cmctl("stats", "--no-stream", ready.ID),
		"cmctl: cannot stats container "+ready.ID+": it is READY (stats needs RUNNING or STOPPING or PAUSED)")
	status, _, err = m.Client.Raw(m.ctx(), http.MethodPost, "/v1/containers/"+ready.ID+"/stats", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusMethodNotAllowed, status)
	m.cmctlOK("rm", "--force", ready.ID)
	m.requireContainerGone(ready.ID)

	// A metrics address that cannot be listened on stops the daemon at once.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	r := runManagerOnce(t, "--metrics-listen", busy.Addr().String())
	require.NotZero(t, r.code)
	require.Contains(t, r.stderr, "cmanagerd: metrics listen address: listen tcp "+busy.Addr().String()+": bind: address already in use")
	require.Len(t, strings.Split(strings.TrimSpace(r.stderr), "\n"), 1, "%s", r.stderr)
}

// runManagerOnce runs cmanagerd in a fresh directory with flags expected
// to make it fail at start.
func runManagerOnce(t *testing.T, flags ...string) result {
	dir := t.TempDir()
	args := append([]string{"--state-dir", filepath.Join(dir, "state"), "--socket", filepath.Join(dir, "cm.sock"),
		"--shim-socket", filepath.Join(dir, "shim.sock"), "--log-level", "error"}, flags...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "cmanagerd"), args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		code = cmd.ProcessState.ExitCode()
	}
	// Nothing left: no socket.
	for _, s := range []string{"cm.sock", "shim.sock"} {
		_, statErr := os.Stat(filepath.Join(dir, s))
		require.True(t, os.IsNotExist(statErr), "%s left behind", s)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// fifoWrite writes a line into a fifo whose reader is the container,
// failing the test if it never opens it.
func fifoWrite(t *testing.T, path string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- os.WriteFile(path, []byte("go\n"), 0) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(waitLong):
		require.FailNow(t, "the container never read "+path)
	}
}

// fifoRead reads a fifo until the container closes it.
func fifoRead(t *testing.T, path string) string {
	t.Helper()
	done := make(chan string, 1)
	go func() { b, _ := os.ReadFile(path); done <- string(b) }()
	select {
	case s := <-done:
		return s
	case <-time.After(waitLong):
		require.FailNow(t, "the container never wrote "+path)
	}
	return ""
}

func scrape(t *testing.T, m *managerProc) map[string]*dto.MetricFamily {
	t.Helper()
	body, err := m.Client.Metrics(m.ctx())
	require.NoError(t, err)
	return parseMetrics(t, string(body))
}

func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err, "%s", text)
	return families
}

// metricValue is the value of the one series of family name with labels.
func metricValue(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	f, ok := families[name]
	require.True(t, ok, "no metric %s", name)
	for _, s := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range s.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range labels {
			match = match && got[k] == v
		}
		if !match {
			continue
		}
		switch {
		case s.Gauge != nil:
			return s.Gauge.GetValue()
		case s.Counter != nil:
			return s.Counter.GetValue()
		}
	}
	require.FailNow(t, fmt.Sprintf("no series %s%v", name, labels))
	return 0
}
