package cgroupfs

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStatsFake(t *testing.T) {
	tests := []struct {
		name  string
		spec  fakeSpec
		files map[string]string // below the fake root
		want  Stats
	}{{
		name: "v1",
		spec: fakeV1,
		files: map[string]string{
			"memory/ctr/memory.usage_in_bytes":                    "1000\n",
			"memory/ctr/memory.max_usage_in_bytes":                "3000\n",
			"memory/ctr/memory.limit_in_bytes":                    "16777216\n",
			"memory/ctr/memory.memsw.usage_in_bytes":              "1500\n",
			"memory/ctr/memory.stat":                              "cache 7\nrss 9\ntotal_cache 70\n",
			"memory/ctr/memory.oom_control":                       "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
			"pids/ctr/pids.current":                               "3\n",
			"pids/ctr/pids.max":                                   "8\n",
			"cpu,cpuacct/ctr/cpuacct.usage":                       "5000\n",
			"cpu,cpuacct/ctr/cpuacct.usage_user":                  "3000\n",
			"cpu,cpuacct/ctr/cpuacct.usage_sys":                   "2000\n",
			"cpu,cpuacct/ctr/cpu.stat":                            "nr_periods 10\nnr_throttled 4\nthrottled_time 123\n",
			"blkio/ctr/blkio.throttle.io_service_bytes_recursive": "8:0 Read 100\n8:0 Write 200\n8:16 Read 1\n8:16 Write 2\nTotal 303\n",
			"blkio/ctr/blkio.throttle.io_serviced_recursive":      "8:0 Read 3\n8:0 Write 4\nTotal 7\n",
			"hugetlb/ctr/hugetlb.2MB.usage_in_bytes":              "2097152\n",
			"hugetlb/ctr/hugetlb.2MB.failcnt":                     "1\n",
		},
		want: Stats{
			Memory:  MemoryStats{Usage: 1000, MaxUsage: 3000, Limit: 16777216, SwapUsage: 500, Cache: 70, OOMKill: 2},
			Pids:    PidsStats{Current: 3, Limit: 8},
			CPU:     CPUStats{UsageNanos: 5000, UserNanos: 3000, SystemNanos: 2000, Periods: 10, ThrottledPeriods: 4, ThrottledNanos: 123},
			IO:      IOStats{ReadBytes: 101, WriteBytes: 202, ReadOps: 3, WriteOps: 4},
			Hugetlb: map[string]HugetlbStats{"2MB": {Usage: 2097152, Failcnt: 1}},
		},
	}, {
		name: "v2",
		spec: fakeSpec{unified: []string{"cpu", "io", "memory", "pids", "hugetlb"}},
		files: map[string]string{
			"ctr/memory.current":      "1000\n",
			"ctr/memory.peak":         "3000\n",
			"ctr/memory.max":          "max\n",
			"ctr/memory.swap.current": "50\n",
			"ctr/memory.stat":         "anon 10\nfile 70\n",
			"ctr/memory.events":       "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\n",
			"ctr/pids.current":        "3\n",
			"ctr/pids.max":            "max\n",
			"ctr/cpu.stat":            "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 10\nnr_throttled 4\nthrottled_usec 7\n",
			"ctr/io.stat":             "8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=1 wios=1\n",
			"ctr/hugetlb.2MB.current": "0\n",
			"ctr/hugetlb.2MB.max":     "4194304\n",
			"ctr/hugetlb.2MB.events":  "max 3\n",
		},
		want: Stats{
			Memory: MemoryStats{Usage: 1000, MaxUsage: 3000, SwapUsage: 50, Cache: 70, OOM: 2, OOMKill: 1},
			Pids:   PidsStats{Current: 3},
			CPU:    CPUStats{UsageNanos: 5000, UserNanos: 3000, SystemNanos: 2000, Periods: 10, ThrottledPeriods: 4, ThrottledNanos: 7000},
			IO:     IOStats{ReadBytes: 101, WriteBytes: 202, ReadOps: 4, WriteOps: 5},
			Hugetlb: map[string]HugetlbStats{
				"2MB": {Limit: 4194304, Failcnt: 3},
				"1GB": {},
			},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.spec)
			g := f.group(t, "/ctr")
			for rel, content := range tc.files {
				writeFakeFile(t, filepath.Join(f.root, filepath.Dir(rel)), filepath.Base(rel), content)
			}
			s, err := g.Stats()
			require.NoError(t, err)
			require.Equal(t, tc.want, *s)
			n, err := g.OOMKillCount()
			require.NoError(t, err)
			require.Equal(t, tc.want.Memory.OOMKill, n)
		})
	}
}

func TestStatsMissingGroup(t *testing.T) {
	f := newFake(t, fakeV2)
	g, err := f.host.Group("/nope")
	require.NoError(t, err)
	_, err = g.Stats()
	require.ErrorContains(t, err, "stats of cgroup /nope")
}

// TestStatsJSON pins the camelCase names `cmrun events --stats` prints.
func TestStatsJSON(t *testing.T) {
	b, err := json.Marshal(Stats{Hugetlb: map[string]HugetlbStats{"2MB": {}}})
	require.NoError(t, err)
	var m map[string]map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	require.Contains(t, m["memory"], "maxUsage")
	require.Contains(t, m["memory"], "oomKill")
	require.Contains(t, m["cpu"], "usageNanos")
	require.Contains(t, m["cpu"], "throttledPeriods")
	require.Contains(t, m["io"], "readBytes")
	require.Contains(t, m["pids"], "current")
	require.Contains(t, m["hugetlb"], "2MB")
}
