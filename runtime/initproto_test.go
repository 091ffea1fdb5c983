package runtime

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"cm/nsexec"
)

// The init's messages share the socket with the preamble's: a number of
// both would make one side misread the other.
func TestInitMessagesAfterPreamble(t *testing.T) {
	preamble := []nsexec.MsgType{nsexec.MsgBootstrap, nsexec.MsgUsermapRequest, nsexec.MsgUsermapAck, nsexec.MsgPid, nsexec.MsgError}
	seen := map[nsexec.MsgType]bool{}
	for _, m := range preamble {
		seen[m] = true
	}
	for _, m := range []nsexec.MsgType{msgConfig, msgReady, msgHooks, msgHooksDone, msgSeccomp, msgSeccompFd, msgSeccompFdDone} {
		require.False(t, seen[m], "message %d is used twice", m)
		seen[m] = true
	}
}

func TestConfigRoundTrip(t *testing.T) {
	spec := &specs.Spec{Version: specs.Version, Hostname: "box",
		Process: &specs.Process{Args: []string{"sh"}, Cwd: "/"}, Linux: &specs.Linux{}}
	tests := []struct {
		name string
		cfg  initConfig
	}{
		{"standard", initConfig{Type: initStandard, ID: "a", Pid: 42, FifoFd: 5, Hooks: true, ExtraFds: 1,
			CgroupDirs: map[string]string{"/sys/fs/cgroup": "/a"}}},
		{"setns with seccomp", initConfig{Type: initSetns, ID: "b", ConsoleFd: 6, Seccomp: []byte{1, 2, 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			require.NoError(t, err)
			parent, child := os.NewFile(uintptr(fds[0]), "parent"), os.NewFile(uintptr(fds[1]), "child")
			defer parent.Close()
			defer child.Close()
			tc.cfg.Bundle = &Bundle{Dir: "/bundle", Rootfs: "/bundle/rootfs", Spec: spec}
			require.NoError(t, sendConfig(parent, tc.cfg))
			parent.Close() // a message missing is an error, not a hang
			got, err := readConfig(child)
			require.NoError(t, err)
			require.Equal(t, tc.cfg.Type, got.Type)
			require.Equal(t, tc.cfg.Seccomp, got.Seccomp)
			require.Equal(t, tc.cfg.Bundle.Dir, got.Bundle.Dir)
			require.Equal(t, tc.cfg.Bundle.Rootfs, got.Bundle.Rootfs)
			require.Equal(t, "box", got.Bundle.Spec.Hostname)
			got.Bundle, got.BundleDir, got.Rootfs, got.Spec, got.HasSeccomp = tc.cfg.Bundle, "", "", nil, false
			require.Equal(t, tc.cfg, *got)
		})
	}
}
