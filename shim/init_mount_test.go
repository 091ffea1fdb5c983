package shim_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/shim"
)

// TestInitIgnoresPlantedSymlink: --init rewrites config.json in the
// bundle, which may belong to an unprivileged user. Symlinks to a
// root-only file planted at the temporary names a rewrite could use must
// not make the shim, as root, write the config into that file.
func TestInitIgnoresPlantedSymlink(t *testing.T) {
	e := newEnv(t, time.Second)
	bundle := e.bundle(nil, "sh", "-c", "touch /dev/shm/ready; exec sleep 1000")
	victim := filepath.Join(e.dir, "root-only")
	require.NoError(t, os.WriteFile(victim, []byte("precious\n"), 0o600))
	require.NoError(t, os.Chown(bundle, 1000, 1000))
	for _, name := range []string{"config.json.tmp", ".config.json"} {
		link := filepath.Join(bundle, name)
		require.NoError(t, os.Symlink(victim, link))
		require.NoError(t, os.Lchown(link, 1000, 1000))
	}

	p := e.launch(bundle, "--init")
	initPid := p.start(t)
	waitFile(t, initPid, "/dev/shm/ready")
	data, err := os.ReadFile(victim)
	require.NoError(t, err)
	require.Equal(t, "precious\n", string(data), "the shim wrote the config through a planted symlink")
	cmdline, err := os.ReadFile(filepath.Join("/proc", itoa(initPid), "cmdline"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(cmdline), shim.InitPath+"\x00"), "PID 1 is %q", cmdline)
}
