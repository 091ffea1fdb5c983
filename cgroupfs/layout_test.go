package cgroupfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDetectFrom(t *testing.T) {
	// ROOT stands for the test's temporary directory in the texts below.
	hybridMounts := `31 23 0:28 / ROOT rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / ROOT/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / ROOT/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / ROOT/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / ROOT/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / ROOT/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / ROOT/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / ROOT/unified rw,relatime - cgroup2 cgroup2 rw
`
	hybridSelf := "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/abc\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n"

	tests := []struct {
		name      string
		mountinfo string
		self      string
		unified   string // content of cgroup.controllers at ROOT/unified or ROOT
		want      Layout
		wantErr   error
		check     func(t *testing.T, h *Host, root string)
	}{{
		name:      "hybrid with separate cpu and cpuacct",
		mountinfo: hybridMounts,
		self:      hybridSelf,
		unified:   "hugetlb",
		want:      LayoutHybrid,
		check: func(t *testing.T, h *Host, root string) {
			require.Equal(t, filepath.Join(root, "cpu"), h.lookup("cpu").mountpoint)
			require.Equal(t, filepath.Join(root, "cpuacct"), h.lookup("cpuacct").mountpoint)
			require.Equal(t, "/process_api/abc", h.lookup("memory").self)
			require.True(t, h.lookup("hugetlb").v2, "hugetlb is bound to the unified hierarchy")
			require.Nil(t, h.lookup("devices"), "devices is not mounted")
			require.Len(t, h.hierarchies(), 7, "six v1 trees (systemd included) plus unified")
		},
	}, {
		name: "v1 with cpu,cpuacct co-mounted",
		mountinfo: `32 31 0:29 / ROOT/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / ROOT/memory rw - cgroup cgroup rw,memory
40 31 0:37 / ROOT/systemd rw - cgroup cgroup rw,xattr,name=systemd
`,
		self: "3:name=systemd:/user.slice\n2:memory:/\n1:cpu,cpuacct:/\n0::/user.slice\n",
		want: LayoutV1,
		check: func(t *testing.T, h *Host, root string) {
			require.Same(t, h.lookup("cpu"), h.lookup("cpuacct"))
			require.Equal(t, filepath.Join(root, "cpu,cpuacct"), h.lookup("cpu").mountpoint)
			require.Equal(t, []string{"cpu", "cpuacct"}, h.lookup("cpu").controllers)
			require.Nil(t, h.unified)
		},
	}, {
		name:      "pure v2",
		mountinfo: "30 23 0:26 / ROOT rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
		self:      "0::/user.slice/session-1.scope\n",
		unified:   "cpuset cpu io memory pids",
		want:      LayoutV2,
		check: func(t *testing.T, h *Host, root string) {
			require.Equal(t, root, h.lookup("memory").mountpoint)
			require.Equal(t, "/user.slice/session-1.scope", h.unified.self)
			require.Nil(t, h.lookup("hugetlb"), "not offered by cgroup.controllers")
			require.Empty(t, h.v1)
		},
	}, {
		name: "named v1 tree alone does not make a hybrid",
		mountinfo: `40 31 0:37 / ROOT/systemd rw - cgroup cgroup rw,name=systemd
41 31 0:38 / ROOT rw - cgroup2 cgroup2 rw
`,
		self:    "1:name=systemd:/\n0::/\n",
		unified: "memory pids",
		want:    LayoutV2,
	}, {
		name:      "hierarchy listed but not mounted is ignored",
		mountinfo: "35 31 0:32 / ROOT/memory rw - cgroup cgroup rw,memory\n",
		self:      "5:perf_event:/\n4:memory:/\n",
		want:      LayoutV1,
		check: func(t *testing.T, h *Host, root string) {
			require.Nil(t, h.lookup("perf_event"))
			require.Len(t, h.v1, 1)
		},
	}, {
		name:      "mount showing a subtree",
		mountinfo: "35 31 0:32 /docker/abc ROOT/memory rw - cgroup cgroup rw,memory\n",
		self:      "4:memory:/docker/abc/inner\n",
		want:      LayoutV1,
		check: func(t *testing.T, h *Host, root string) {
			require.Equal(t, "/inner", h.lookup("memory").self)
		},
	}, {
		name:      "escaped space in mount point",
		mountinfo: `35 31 0:32 / ROOT/my\040memory rw - cgroup cgroup rw,memory` + "\n",
		self:      "4:memory:/\n",
		want:      LayoutV1,
		check: func(t *testing.T, h *Host, root string) {
			require.Equal(t, filepath.Join(root, "my memory"), h.lookup("memory").mountpoint)
		},
	}, {
		name:      "no cgroup mounts",
		mountinfo: "22 1 0:20 / /proc rw - proc proc rw\n",
		self:      "0::/\n",
		wantErr:   ErrNoCgroups,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			if tc.unified != "" {
				dir := root
				if strings.Contains(tc.mountinfo, "ROOT/unified") {
					dir = filepath.Join(root, "unified")
				}
				require.NoError(t, os.MkdirAll(dir, 0o755))
				writeFakeFile(t, dir, "cgroup.controllers", tc.unified+"\n")
			}
			mi := strings.ReplaceAll(tc.mountinfo, "ROOT", root)
			h, err := DetectFrom(strings.NewReader(mi), strings.NewReader(tc.self))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, h.Layout())
			if tc.check != nil {
				tc.check(t, h, root)
			}
		})
	}
}

func TestDetectFromBadInput(t *testing.T) {
	tests := []struct {
		name, mountinfo, self, wantMsg string
	}{
		{"mountinfo without separator", "35 31 0:32 / /x rw cgroup cgroup rw,memory\n", "4:memory:/\n", "no \" - \" separator"},
		{"mountinfo too short", "35 31 - cgroup\n", "4:memory:/\n", "too few fields"},
		{"proc cgroup line", "35 31 0:32 / /x rw - cgroup cgroup rw,memory\n", "memory:/\n", "want ID:CONTROLLERS:PATH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DetectFrom(strings.NewReader(tc.mountinfo), strings.NewReader(tc.self))
			require.ErrorContains(t, err, tc.wantMsg)
		})
	}
}

// TestDetectRealHost checks detection on the machine the tests run on
// against what the kernel itself reports in /proc/self/cgroup.
func TestDetectRealHost(t *testing.T) {
	h, err := Detect()
	require.NoError(t, err)
	self, err := os.ReadFile("/proc/self/cgroup")
	require.NoError(t, err)
	hasV1 := false
	for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if parts[0] != "0" && !strings.HasPrefix(parts[1], "name=") && h.lookup(strings.Split(parts[1], ",")[0]) != nil {
			hasV1 = true
		}
	}
	if hasV1 {
		require.Contains(t, []Layout{LayoutV1, LayoutHybrid}, h.Layout())
	} else {
		require.Equal(t, LayoutV2, h.Layout())
	}
	for _, hi := range h.hierarchies() {
		require.DirExists(t, hi.mountpoint)
	}
}
