package runtime

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// replacedExeChildEnv starts replacedExeChild in a copy of the test binary.
const replacedExeChildEnv = "CM_RUNTIME_TEST_REPLACED_EXE"

type replacedExeReport struct {
	Err      string
	SameFile bool // the descriptor is the running binary, not the new file
	ReadOnly bool // on a read-only mount
}

// replacedExeChild replaces its own binary on disk, as an upgrade does,
// then asks readonlyExe for the binary the init is started from.
func replacedExeChild(cfg *struct{}) (r replacedExeReport, _ []string) {
	exe, err := os.Readlink("/proc/self/exe")
	if err == nil {
		err = os.Remove(exe)
	}
	if err == nil {
		err = os.WriteFile(exe, []byte("#!/bin/sh\necho not cmrun\n"), 0o755)
	}
	if err != nil {
		r.Err = err.Error()
		return r, nil
	}
	f, err := readonlyExe()
	if err != nil {
		r.Err = err.Error()
		return r, nil
	}
	var running, got unix.Stat_t
	var fs unix.Statfs_t
	err = unix.Stat("/proc/self/exe", &running)
	if err == nil {
		err = unix.Fstat(int(f.Fd()), &got)
	}
	if err == nil {
		err = unix.Fstatfs(int(f.Fd()), &fs)
	}
	if err != nil {
		r.Err = err.Error()
		return r, nil
	}
	r.SameFile = running.Ino == got.Ino && running.Dev == got.Dev
	r.ReadOnly = fs.Flags&unix.ST_RDONLY != 0
	return r, nil
}

// TestReadonlyExeAfterUpgrade: a shim or cmrun whose binary was replaced
// on disk since it started still starts its init from its own binary
// (it used to fail with "open_tree /path/cmshim (deleted)"), read-only.
func TestReadonlyExeAfterUpgrade(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for the bind mount")
	}
	exe := filepath.Join(t.TempDir(), "runtime.test")
	binary, err := os.ReadFile(os.Args[0])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(exe, binary, 0o755))

	cmd := exec.Command(exe, "-test.run", "^$")
	cmd.Env = append(os.Environ(), replacedExeChildEnv+"={}")
	out, err := cmd.Output()
	require.NoError(t, err, "child: %s", out)
	var r replacedExeReport
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(string(out), "\n", 2)[0]), &r), "child: %s", out)
	require.Empty(t, r.Err)
	require.True(t, r.SameFile, "the descriptor is not the running binary")
	require.True(t, r.ReadOnly, "the binary is not on a read-only mount")
}
