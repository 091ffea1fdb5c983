package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// stack8M pins the stack rlimit the container's program execs with, so
// the execve budget is a quarter of it: 2 MiB.
func stack8M(s *specs.Spec) {
	s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_STACK", Soft: 8 << 20, Hard: 8 << 20})
}

// bigEnv returns n variables V0..V(n-1) of size bytes each.
func bigEnv(n, size int) []string {
	var env []string
	for i := 0; i < n; i++ {
		env = append(env, fmt.Sprintf("V%d=%s", i, strings.Repeat("x", size)))
	}
	return env
}

// TestHugeConfig: a config.json whose process cannot go through execve
// fails create with one line naming the field and the kernel's limit,
// before anything exists; it used to die sending the init its config
// ("send message 6: write init-parent: broken pipe").
func TestHugeConfig(t *testing.T) {
	e := newEnv(t)
	e.requireCreateFails([]badConfig{
		{"one 10 MiB variable", func(s *specs.Spec) {
			s.Process.Env = append(s.Process.Env, "BIG="+strings.Repeat("x", 10<<20))
		}, "process.env[2]: 10485764 bytes is more than the 128 KiB execve(2) takes for one string (MAX_ARG_STRLEN)"},
		{"10 MiB in 100 KiB variables", func(s *specs.Spec) {
			stack8M(s)
			s.Process.Env = bigEnv(100, 100<<10)
		}, "process.env: 10241303 bytes (strings, NULs and pointers) with process.args is more than the 2 MiB execve(2) takes for both"},
		{"one 200 KiB argument", func(s *specs.Spec) {
			s.Process.Args = []string{"echo", strings.Repeat("x", 200<<10)}
		}, "process.args[1]: 204800 bytes is more than the 128 KiB execve(2) takes for one string"},
		{"hook environment", func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/true", Env: []string{"BIG=" + strings.Repeat("x", 1<<20)}}}}
		}, "hooks.prestart[0].env[0]: 1048580 bytes is more than the 128 KiB"},
	})

	// exec checks its process the same way.
	id, _ := e.detached(e.bundle(nil, "sleep", "300"))
	proc := specs.Process{Args: []string{"true"}, Cwd: "/", Env: []string{"BIG=" + strings.Repeat("x", 10<<20)}}
	data, err := json.Marshal(proc)
	require.NoError(t, err)
	procFile := filepath.Join(e.dir, "process.json")
	require.NoError(t, os.WriteFile(procFile, data, 0o644))
	requireOneLineError(t, e.cmrun("exec", "--process", procFile, id),
		"exec: process.env[0]: 10485764 bytes is more than the 128 KiB execve(2) takes for one string")
}

// TestLargeEnvWorks: 1.2 MiB of environment fits through execve under an
// 8 MiB stack rlimit, so it must reach the program; it used to be more
// than the init's 1 MiB message limit.
func TestLargeEnvWorks(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		stack8M(s)
		s.Process.Env = append(s.Process.Env, bigEnv(12, 100<<10)...)
	}, "sh", "-c", `echo ${#V0} ${#V11}`)
	r := e.run(bundle)
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, "102400 102400", strings.TrimSpace(r.stdout))
}
