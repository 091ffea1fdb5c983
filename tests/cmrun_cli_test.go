package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestVersion checks runc's format, whose first three lines tools parse.
func TestVersion(t *testing.T) {
	e := newEnv(t)
	r := e.cmrun("--version")
	require.Equal(t, 0, r.code)
	require.Regexp(t, regexp.MustCompile(`^cmrun version \S+\ncommit: \S+\nspec: 1\.\d+\.\d+\ngo: go\S+\nlibseccomp: \d+\.\d+\.\d+\n$`), r.stdout)
}

// TestLogFormatJSON: with --log and --log-format json, the error is also
// the last line of the log, as JSON with level, msg and time (containerd
// reads it from there).
func TestLogFormatJSON(t *testing.T) {
	e := newEnv(t)
	logFile := filepath.Join(e.dir, "log.json")
	r := e.cmrun("--log", logFile, "--log-format", "json", "state", "nope")
	requireOneLineError(t, r, `container "nope" does not exist`)
	data, err := os.ReadFile(logFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var entry map[string]string
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &entry))
	require.Equal(t, "error", entry["level"])
	require.Equal(t, `container "nope" does not exist`, entry["msg"])
	require.NotEmpty(t, entry["time"])
}

// TestPreserveFDs passes an open file to the container as fd 3.
func TestPreserveFDs(t *testing.T) {
	e := newEnv(t)
	secret := filepath.Join(e.dir, "passed")
	require.NoError(t, os.WriteFile(secret, []byte("through fd 3"), 0o644))
	f, err := os.Open(secret)
	require.NoError(t, err)
	defer f.Close()
	bundle := e.bundle(nil, "sh", "-c", "cat <&3; echo; ls /proc/self/fd | wc -l")
	out := e.tempFile()
	defer out.Close()
	cmd := exec.Command(filepath.Join(binDir, "cmrun"), "--root", e.root, "run", "--preserve-fds", "1", "--bundle", bundle, e.newID())
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, out, []*os.File{f}
	require.NoError(t, cmd.Run(), readBack(out))
	// fds 0-3, plus the one ls opens to read the directory: nothing of cmrun's leaks in.
	require.Equal(t, "through fd 3\n5", strings.TrimSpace(readBack(out)))
}
