package daemon

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/manager/api"
)

func TestBuildSpecFromRootfs(t *testing.T) {
	req := api.CreateRequest{
		Rootfs: "/srv/rootfs", Args: []string{"sh", "-c", "echo hi"}, Env: []string{"TERM=dumb", "A=1"},
		Cwd: "/tmp", Memory: 64 << 20, Pids: 32, Namespaces: []string{"pid", "mnt"},
	}
	spec, err := buildSpec("0123456789abcdef", "web", req)
	require.NoError(t, err)
	require.Equal(t, "/srv/rootfs", spec.Root.Path)
	require.True(t, spec.Root.Readonly, "the default config's read-only root is kept")
	require.Equal(t, req.Args, spec.Process.Args)
	require.False(t, spec.Process.Terminal, "output goes to the log file")
	require.Contains(t, spec.Process.Env, "TERM=dumb")
	require.NotContains(t, spec.Process.Env, "TERM=xterm", "the request's value replaces the default's")
	require.Contains(t, spec.Process.Env, "A=1")
	require.Equal(t, "/tmp", spec.Process.Cwd)
	require.Equal(t, "web", spec.Hostname)
	require.Equal(t, "/cm/0123456789abcdef", spec.Linux.CgroupsPath)
	require.Equal(t, int64(64<<20), *spec.Linux.Resources.Memory.Limit)
	require.Equal(t, int64(32), *spec.Linux.Resources.Pids.Limit)
	require.Equal(t, []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}}, spec.Linux.Namespaces)
	require.NotNil(t, spec.Linux.Seccomp, "cmrun's default seccomp profile is kept")
}

func TestWriteBundleFromBundle(t *testing.T) {
	src := t.TempDir()
	base := `{"ociVersion":"1.3.0","process":{"args":["/bin/app"],"cwd":"/","env":["PATH=/bin"]},"root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"pid"}]}}`
	require.NoError(t, os.WriteFile(filepath.Join(src, "config.json"), []byte(base), 0o600))
	dst := filepath.Join(t.TempDir(), "bundle")

	require.NoError(t, writeBundle(dst, "0123456789abcdef", "", api.CreateRequest{Bundle: src, Pids: 5}))
	data, err := os.ReadFile(filepath.Join(dst, "config.json"))
	require.NoError(t, err)
	var spec specs.Spec
	require.NoError(t, json.Unmarshal(data, &spec))
	require.Equal(t, filepath.Join(src, "rootfs"), spec.Root.Path, "a relative root is anchored at the original bundle")
	require.Equal(t, []string{"/bin/app"}, spec.Process.Args, "no args given: the bundle's stay")
	require.Equal(t, []string{"PATH=/bin"}, spec.Process.Env)
	require.Equal(t, []specs.LinuxNamespace{{Type: specs.PIDNamespace}}, spec.Linux.Namespaces)
	require.Equal(t, int64(5), *spec.Linux.Resources.Pids.Limit)
	require.Nil(t, spec.Linux.Resources.Memory)
	require.Equal(t, "/cm/0123456789abcdef", spec.Linux.CgroupsPath)
}
