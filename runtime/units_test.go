package runtime

import (
	"encoding/json"
	"fmt"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/runtime/spec"
)

func TestBootstrapFor(t *testing.T) {
	s := spec.DefaultSpec()
	s.Linux.Namespaces = []specs.LinuxNamespace{
		{Type: specs.MountNamespace, Path: "/proc/1/ns/mnt"},
		{Type: specs.PIDNamespace},
		{Type: specs.NetworkNamespace, Path: "/proc/1/ns/net"},
		{Type: specs.UserNamespace, Path: "/proc/1/ns/user"},
		{Type: specs.TimeNamespace},
		{Type: specs.CgroupNamespace, Path: "/proc/1/ns/cgroup"},
	}
	s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 7}, "monotonic": {Secs: -1, Nanosecs: 5}}
	b := bootstrapFor(s)
	require.Equal(t, uint32(unix.CLONE_NEWPID|unix.CLONE_NEWTIME), b.CloneFlags)
	// user first (it grants the right to join the others), mount last.
	require.Equal(t, []string{"/proc/1/ns/user", "/proc/1/ns/net", "/proc/1/ns/mnt"}, b.NamespacePaths)
	// The cgroup namespace is the init's to join, once it is in its cgroup.
	require.Equal(t, "/proc/1/ns/cgroup", b.CgroupNamespacePath)
	require.Equal(t, "monotonic -1 5\nboottime 7 0\n", b.TimensOffsets)
	require.NotEmpty(t, b.Encode())
}

func TestIDMapText(t *testing.T) {
	require.Equal(t, "0 100000 65536\n65536 1000 1\n", idMapText([]specs.LinuxIDMapping{
		{ContainerID: 0, HostID: 100000, Size: 65536}, {ContainerID: 65536, HostID: 1000, Size: 1},
	}))
}

func BenchmarkBootstrapEncode(b *testing.B) {
	s := spec.DefaultSpec()
	for b.Loop() {
		bootstrapFor(s).Encode()
	}
}

// TestInitSpecRoundTrip: what the init reads survives the trip through
// initSpec's JSON; the seccomp profile and the cgroup resources stay behind.
func TestInitSpecRoundTrip(t *testing.T) {
	s := spec.DefaultSpec()
	s.Hostname, s.Domainname = "box", "example.org"
	s.Annotations = map[string]string{"a": "b"}
	s.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/true"}}}
	s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
	s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
	s.Linux.RootfsPropagation = "rslave"
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "c", Major: 1, Minor: 3}}
	data, err := json.Marshal(initSpecOf(s))
	require.NoError(t, err)
	var is initSpec
	require.NoError(t, json.Unmarshal(data, &is))
	got := is.spec()

	want := *s
	linux := *s.Linux
	linux.Seccomp, linux.Resources = nil, nil
	want.Linux = &linux
	require.Equal(t, &want, got)
	require.NotNil(t, s.Linux.Seccomp, "the parent's spec keeps its profile")
}

// TestDeviceRules: the cgroup gets the config's device rules, then runc's
// defaults; a linux.devices entry gets no rule of its own, and a default
// device it redefines loses its default rule.
func TestDeviceRules(t *testing.T) {
	deny := specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}
	s := spec.DefaultSpec()
	s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{deny}
	s.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11},
		{Path: "/dev/null", Type: "c", Major: 1, Minor: 7},
	}
	var got []string
	for _, r := range withDefaultDevices(s).Devices {
		got = append(got, fmt.Sprintf("%v %s %s %s", r.Allow, r.Type, num(r.Major)+":"+num(r.Minor), r.Access))
	}
	require.Equal(t, []string{
		"false  *:* rwm",
		"true c *:* m", "true b *:* m",
		// no /dev/null (1:3): linux.devices redefines it
		"true c 1:5 rwm", "true c 1:7 rwm", "true c 1:8 rwm", "true c 1:9 rwm", "true c 5:0 rwm",
		"true c 136:* rwm", "true c 5:2 rwm", "true c 10:200 rwm",
	}, got)

	// No device rules at all still means runc's default list only.
	s.Linux.Resources = nil
	require.Len(t, withDefaultDevices(s).Devices, len(got)-1)
}

func num(n *int64) string {
	if n == nil || *n == -1 {
		return "*"
	}
	return fmt.Sprint(*n)
}
