package daemon

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"cm/cgroupfs"
	"cm/manager"
	"cm/manager/api"
)

// The daemon reads a container's usage itself, from the cgroup the runtime
// made at the path the daemon wrote into its config (cgroupsPath): no shim
// is asked, so stats cost no round trip and work for any number of
// containers at scrape time. It only reads.

// cgroupHost is the host's cgroup layout, detected at the first read: it
// does not change while the daemon runs.
var cgroupHost = sync.OnceValues(cgroupfs.Detect)

// stats reads what a container uses, if the state table allows it now.
func (d *Daemon) stats(e *entry) (api.Stats, error) {
	s := e.Snap()
	if err := manager.CheckOp(e.ID, manager.OpStats, s.State); err != nil {
		return api.Stats{}, err
	}
	cg, err := readCgroupStats(e.ID)
	if err != nil {
		// The container may have died since the check: that is a 409
		// like any other request that comes too late.
		if late := manager.CheckOp(e.ID, manager.OpStats, e.Snap().State); late != nil {
			return api.Stats{}, late
		}
		return api.Stats{}, fmt.Errorf("stats of container %s: %w", e.ID, err)
	}
	out := api.Stats{
		ID: e.ID, Name: e.Name, Read: time.Now(),
		CPU: api.CPUStats{
			UsageNanos: cg.CPU.UsageNanos, UserNanos: cg.CPU.UserNanos, SystemNanos: cg.CPU.SystemNanos,
			OnlineCPUs: goruntime.NumCPU(),
		},
		Memory:  api.MemoryStats{Usage: cg.Memory.Usage, Limit: cg.Memory.Limit, Cache: cg.Memory.Cache},
		Pids:    api.PidsStats{Current: cg.Pids.Current, Limit: cg.Pids.Limit},
		BlockIO: api.BlockIOStats{ReadBytes: cg.IO.ReadBytes, WriteBytes: cg.IO.WriteBytes},
	}
	if total := hostMemory(); out.Memory.Limit == 0 || (total > 0 && out.Memory.Limit > total) {
		out.Memory.Limit = total
	}
	if s.Pid > 0 {
		out.Net = readNetStats(s.Pid)
	}
	return out, nil
}

// readCgroupStats reads the counters of container id's cgroup.
func readCgroupStats(id string) (*cgroupfs.Stats, error) {
	host, err := cgroupHost()
	if err != nil {
		return nil, err
	}
	path, err := cgroupfs.ResolvePath(cgroupsPath(id), id)
	if err != nil {
		return nil, err
	}
	g, err := host.Group(path)
	if err != nil {
		return nil, err
	}
	return g.Stats()
}

// hostMemory is the host's RAM in bytes, the limit of a container without one.
func hostMemory() uint64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}

// readNetStats sums the interfaces of pid's network namespace but the
// loopback. It returns nil when pid shares the daemon's namespace (the
// host's traffic is not the container's), has nothing but a loopback, or
// cannot be read (the process just exited).
func readNetStats(pid int) *api.NetStats {
	var self, its unix.Stat_t
	if unix.Stat("/proc/self/ns/net", &self) != nil || unix.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &its) != nil {
		return nil
	}
	if self.Ino == its.Ino && self.Dev == its.Dev {
		return nil
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return nil
	}
	defer f.Close()
	n, ok := parseNetDev(f)
	if !ok {
		return nil
	}
	return n
}

// parseNetDev reads /proc/net/dev: two header lines, then
// "iface: rxbytes packets errs drop fifo frame compressed multicast txbytes ...".
func parseNetDev(r io.Reader) (*api.NetStats, bool) {
	var n api.NetStats
	found := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 9 {
			continue
		}
		rx, err1 := strconv.ParseUint(fields[0], 10, 64)
		tx, err2 := strconv.ParseUint(fields[8], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			continue
		}
		n.RxBytes += rx
		n.TxBytes += tx
		found = true
	}
	return &n, found
}

func (d *Daemon) handleStats(w http.ResponseWriter, r *http.Request) error {
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	st, err := d.stats(e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
