package namespace

import (
	"os"
	"sort"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestTable pins every OCI namespace type to the flag, /proc name and
// join rank the runtime used before the table existed.
func TestTable(t *testing.T) {
	tests := []struct {
		typ  specs.LinuxNamespaceType
		flag uint32
		proc string
		rank int
	}{
		{specs.UserNamespace, unix.CLONE_NEWUSER, "user", 0},
		{specs.PIDNamespace, unix.CLONE_NEWPID, "pid", 1},
		{specs.NetworkNamespace, unix.CLONE_NEWNET, "net", 1},
		{specs.IPCNamespace, unix.CLONE_NEWIPC, "ipc", 1},
		{specs.UTSNamespace, unix.CLONE_NEWUTS, "uts", 1},
		{specs.CgroupNamespace, unix.CLONE_NEWCGROUP, "cgroup", 1},
		{specs.TimeNamespace, unix.CLONE_NEWTIME, "time", 1},
		{specs.MountNamespace, unix.CLONE_NEWNS, "mnt", 2},
	}
	var types []string
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			k, ok := Lookup(tt.typ)
			require.True(t, ok)
			require.Equal(t, Kind{tt.typ, tt.flag, tt.proc, tt.rank}, k)
			require.Equal(t, tt.flag, CloneFlag(tt.typ))
			require.Equal(t, tt.proc, ProcName(tt.typ))
			require.Equal(t, tt.rank, JoinRank(tt.typ))
			require.Equal(t, tt.typ, ByCloneFlag(int(tt.flag)))
		})
		types = append(types, string(tt.typ))
	}
	sort.Strings(types)
	require.Equal(t, types, Types(), "the table has exactly the OCI namespace types")
}

func TestUnknownType(t *testing.T) {
	_, ok := Lookup("nope")
	require.False(t, ok)
	require.Zero(t, CloneFlag("nope"))
	require.Empty(t, ProcName("nope"))
	require.Equal(t, specs.LinuxNamespaceType(""), ByCloneFlag(unix.CLONE_FS))
}

// TestProcNames checks each /proc name against this kernel's /proc/self/ns.
func TestProcNames(t *testing.T) {
	for _, name := range Types() {
		k, _ := Lookup(specs.LinuxNamespaceType(name))
		if _, err := os.Stat("/proc/self/ns/" + k.ProcName); os.IsNotExist(err) && k.Type == specs.TimeNamespace {
			continue // kernels before 5.6 have no time namespace
		}
		_, err := os.Stat("/proc/self/ns/" + k.ProcName)
		require.NoError(t, err)
	}
}

func TestCheckPath(t *testing.T) {
	tests := []struct {
		ns   specs.LinuxNamespace
		want string
	}{
		{specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/self/ns/net"}, ""},
		{specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/self/ns/net"}, "/proc/self/ns/net is a network namespace, not pid"},
		{specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/self/status"}, "/proc/self/status is not a namespace"},
		{specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/no/such/ns"}, "open /no/such/ns: no such file or directory"},
	}
	for _, tt := range tests {
		err := CheckPath(tt.ns)
		if tt.want == "" {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, tt.want)
	}
}

func TestFind(t *testing.T) {
	s := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: "/x"}}}}
	require.Equal(t, "/x", Find(s, specs.NetworkNamespace).Path)
	require.True(t, Has(s, specs.PIDNamespace))
	require.False(t, Has(s, specs.UserNamespace))
	require.Nil(t, Find(&specs.Spec{}, specs.PIDNamespace))
}
