package vm

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The kernel is fetched once per test process (and once per cache).
var (
	kernelOnce sync.Once
	kernelPath string
	kernelErr  error
)

// testKernel returns the cached vmlinux, downloading it the first time.
func testKernel(t *testing.T) string {
	t.Helper()
	kernelOnce.Do(func() {
		cache, err := DefaultCacheDir()
		if err != nil {
			kernelErr = err
			return
		}
		kernelPath, kernelErr = EnsureKernel(cache)
	})
	require.NoError(t, kernelErr)
	return kernelPath
}

// repoRoot is the directory of the module's go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err, "go env GOMOD")
	gomod := strings.TrimSpace(string(out))
	require.NotEmpty(t, gomod, "not inside a Go module")
	return filepath.Dir(gomod)
}

// buildTestBinary runs `go test -c` on pkg (relative to the repository
// root) and returns the binary's path.
func buildTestBinary(t *testing.T, pkg string, tags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg)+".test")
	args := []string{"test", "-c", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Dir = repoRoot(t)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "go %s:\n%s", strings.Join(cmd.Args[1:], " "), out.String())
	return bin
}
