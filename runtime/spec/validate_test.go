package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/runtime/seccomp"
)

// validBundle returns a bundle directory with a rootfs and the default spec.
func validBundle(t testing.TB) *Bundle {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "rootfs"), 0o755))
	return &Bundle{Dir: dir, Spec: DefaultSpec()}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*specs.Spec)
		want string // "" means valid
	}{
		{"default spec", func(*specs.Spec) {}, ""},
		{"no version", func(s *specs.Spec) { s.Version = "" }, "config.json: ociVersion: must be set"},
		{"version 2", func(s *specs.Spec) { s.Version = "2.0.0" }, `config.json: ociVersion: "2.0.0" is not a 1.x runtime-spec version`},
		{"no root", func(s *specs.Spec) { s.Root = nil }, "config.json: root.path: must be set"},
		{"no process", func(s *specs.Spec) { s.Process = nil }, "config.json: process: must be set to create a container"},
		{"empty args[0]", func(s *specs.Spec) { s.Process.Args = []string{""} }, "config.json: process.args: must not be empty"},
		{"no cwd", func(s *specs.Spec) { s.Process.Cwd = "" }, "config.json: process.cwd: must be set"},
		{"bad env", func(s *specs.Spec) { s.Process.Env = []string{"A=1", "B"} }, `config.json: process.env[1]: "B" is not KEY=VALUE`},
		{"soft above hard", func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 2048 },
			"config.json: process.rlimits[0]: soft limit 2048 is above hard limit 1024"},
		{"duplicate rlimit", func(s *specs.Spec) { s.Process.Rlimits = append(s.Process.Rlimits, s.Process.Rlimits[0]) },
			"config.json: process.rlimits[1].type: RLIMIT_NOFILE is set twice"},
		{"oom score", func(s *specs.Spec) { v := 2000; s.Process.OOMScoreAdj = &v }, "config.json: process.oomScoreAdj: 2000 is outside -1000..1000"},
		{"apparmor", func(s *specs.Spec) { s.Process.ApparmorProfile = "x" }, "config.json: process.apparmorProfile: AppArmor is not supported"},
		{"io priority", func(s *specs.Spec) { s.Process.IOPriority = &specs.LinuxIOPriority{Class: "nope"} },
			`config.json: process.ioPriority.class: unknown class "nope"`},
		{"no linux", func(s *specs.Spec) { s.Linux = nil }, "config.json: linux: must be set on Linux"},
		{"mount without destination", func(s *specs.Spec) { s.Mounts[0].Destination = "" }, "config.json: mounts[0].destination: must be set"},
		{"relative namespace path", func(s *specs.Spec) { s.Linux.Namespaces[0].Path = "proc/1/ns/pid" },
			`config.json: linux.namespaces[0].path: "proc/1/ns/pid" must be an absolute path`},
		{"missing namespace path", func(s *specs.Spec) { s.Linux.Namespaces[0].Path = "/no/such/ns" },
			"config.json: linux.namespaces[0].path: open /no/such/ns: no such file or directory"},
		{"user ns without maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		}, "config.json: linux.uidMappings: must not be empty when a new user namespace is created"},
		{"empty id map", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 0}}
		}, "config.json: linux.uidMappings[0].size: must be greater than zero"},
		{"overlapping id maps", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}, {ContainerID: 5, HostID: 5000, Size: 10}}
			s.Linux.GIDMappings = s.Linux.UIDMappings
		}, "config.json: linux.uidMappings[1]: container ids overlap linux.uidMappings[0]"},
		{"time offsets without time ns", func(s *specs.Spec) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 1}}
		}, "config.json: linux.timeOffsets: needs a new time namespace"},
		{"unknown clock", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"realtime": {Secs: 1}}
		}, `config.json: linux.timeOffsets: unknown clock "realtime"`},
		{"sysctl needs own ipc", func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:2]
			s.Hostname = ""
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
		}, "config.json: linux.sysctl.kernel.shmmax: needs a new ipc namespace"},
		{"device type", func(s *specs.Spec) { s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}} },
			`config.json: linux.devices[0].type: unknown device type "z"`},
		{"relative masked path", func(s *specs.Spec) { s.Linux.MaskedPaths = []string{"proc/kcore"} },
			`config.json: linux.maskedPaths[0]: "proc/kcore" must be an absolute path`},
		{"propagation", func(s *specs.Spec) { s.Linux.RootfsPropagation = "sideways" }, `config.json: linux.rootfsPropagation: unknown mode "sideways"`},
		{"personality", func(s *specs.Spec) { s.Linux.Personality = &specs.LinuxPersonality{Domain: "BSD"} },
			`config.json: linux.personality.domain: unknown domain "BSD"`},
		{"intel rdt", func(s *specs.Spec) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{} }, "config.json: linux.intelRdt: not supported by cmrun"},
		{"relative hook", func(s *specs.Spec) { s.Hooks = &specs.Hooks{Poststop: []specs.Hook{{Path: "hook"}}} },
			`config.json: hooks.poststop[0].path: "hook" must be an absolute path`},
		{"long hostname", func(s *specs.Spec) { s.Hostname = string(make([]byte, 65)) }, "is longer than 64 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := validBundle(t)
			tc.edit(b.Spec)
			err := b.Validate(seccomp.Validate)
			if tc.want == "" {
				require.NoError(t, err)
				require.Equal(t, filepath.Join(b.Dir, "rootfs"), b.Rootfs)
				return
			}
			require.ErrorContains(t, err, tc.want)
			require.ErrorIs(t, err, ErrInvalid)
		})
	}
}

func TestParseConfigIgnoresUnknownFields(t *testing.T) {
	s, err := ParseConfig([]byte(`{"ociVersion":"1.2.0","futureField":{"x":1},"process":{"args":["sh"],"newThing":true}}`))
	require.NoError(t, err)
	require.Equal(t, []string{"sh"}, s.Process.Args)
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "config.json: file is empty"},
		{"{", "config.json: invalid JSON: the file ends in the middle of a value"},
		{"[]", "config.json: (top level): must be specs.Spec, not a JSON array"},
		{`{"process": {"user": {"uid": -1}}}`, "config.json: process.user.uid: must be uint32, not a JSON number -1"},
		{"{}\n{}", "config.json: unexpected data after the JSON object at line 2, column 1"},
	}
	for _, tc := range tests {
		_, err := ParseConfig([]byte(tc.in))
		require.EqualError(t, err, tc.want, "input %q", tc.in)
	}
}

// TestParseConfigSyntaxColumn: a syntax error names the offending byte's
// line and column under either encoding/json (make test runs this package
// with GOEXPERIMENT=jsonv2 too, as the static binaries are built).
func TestParseConfigSyntaxColumn(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{\n  \"ociVersion\": 1.0.2\n}", "line 2, column 20"},
		{"{x}", "line 1, column 2"},
		{"{\"a\":1,,}", "line 1, column 8"},
	}
	for _, tc := range tests {
		_, err := ParseConfig([]byte(tc.in))
		require.ErrorContains(t, err, "config.json: invalid JSON at "+tc.want+": ", "input %q", tc.in)
	}
}

// FuzzParseConfig feeds arbitrary bytes to the config parser and the
// validator: they may reject, but never panic. The seed corpus runs in
// every "go test"; "make fuzz" explores further.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"},"linux":{}}`))
	f.Add([]byte(`{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":1,"hard":0}]},"root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":0,"size":0}]}}`))
	f.Add([]byte(`{"ociVersion":"1.0.2","hostname":"x","mounts":[{"destination":""}],"linux":{"sysctl":{"a..b":"1"},"devices":[{"path":"dev","type":"q"}]}}`))
	f.Add([]byte(`{`))
	f.Add([]byte(`[1,2,3]`))
	dir := f.TempDir()
	require.NoError(f, os.Mkdir(filepath.Join(dir, "rootfs"), 0o755))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseConfig(data)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalid)
			return
		}
		b := &Bundle{Dir: dir, Spec: s}
		if err := b.Validate(seccomp.Validate); err != nil {
			require.ErrorIs(t, err, ErrInvalid)
		}
	})
}

func BenchmarkLoadBundle(b *testing.B) {
	bundle := validBundle(b)
	data, _ := json.Marshal(bundle.Spec)
	for b.Loop() {
		s, err := ParseConfig(data)
		if err != nil {
			b.Fatal(err)
		}
		(&Bundle{Dir: bundle.Dir, Spec: s}).Validate(seccomp.Validate)
	}
}
