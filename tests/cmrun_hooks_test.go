package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// TestHooks runs every kind of OCI hook; each saves the state it got on
// stdin, and the test checks when it ran and what it saw.
func TestHooks(t *testing.T) {
	e := newEnv(t)
	out := t.TempDir()
	save := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + filepath.Join(out, name+".json")}}
	}
	bundle := e.bundle(func(s *specs.Spec) {
		s.Root.Readonly = false
		s.Hooks = &specs.Hooks{
			Prestart:        []specs.Hook{save("prestart")},
			CreateRuntime:   []specs.Hook{save("createRuntime")},
			CreateContainer: []specs.Hook{save("createContainer")},
			// startContainer runs inside the container: its path and output are in the rootfs.
			StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > /tmp/startContainer.json"}}},
			// A failing poststart or poststop hook is a warning; the next ones still run.
			Poststart: []specs.Hook{{Path: "/bin/false"}, save("poststart")},
			Poststop:  []specs.Hook{{Path: "/bin/false"}, save("poststop")},
		}
		s.Annotations = map[string]string{"org.example/hook-test": "yes"}
	}, "sleep", "600")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })

	require.Equal(t, 0, e.cmrun("create", "--bundle", bundle, id).code)
	pid := e.state(id).Pid
	// prestart sees "created", as under runc; the newer hooks "creating".
	wantStatus := map[string]specs.ContainerState{"prestart": specs.StateCreated,
		"createRuntime": specs.StateCreating, "createContainer": specs.StateCreating}
	for _, name := range []string{"prestart", "createRuntime", "createContainer"} {
		st := readState(t, filepath.Join(out, name+".json"))
		require.Equal(t, wantStatus[name], st.Status, name)
		require.Equal(t, pid, st.Pid, name)
		require.Equal(t, id, st.ID, name)
		require.Equal(t, "yes", st.Annotations["org.example/hook-test"], name)
	}
	require.NoFileExists(t, filepath.Join(out, "poststart.json"), "poststart must wait for start")

	r := e.cmrun("start", id)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "warning: poststart hook 0 (/bin/false)")
	st := readState(t, filepath.Join(bundle, "rootfs/tmp/startContainer.json"))
	require.Equal(t, specs.StateCreated, st.Status)
	st = readState(t, filepath.Join(out, "poststart.json"))
	require.Equal(t, specs.StateRunning, st.Status)

	// A failing poststop hook is only a warning: delete still succeeds.
	r = e.cmrun("delete", "--force", id)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stderr, "warning: poststop hook 0 (/bin/false)")
	st = readState(t, filepath.Join(out, "poststop.json"))
	require.Equal(t, specs.StateStopped, st.Status)
	e.requireNoLeftovers(id, bundle)
}

// TestFailingCreateHook checks that a failing createRuntime hook fails
// create and undoes everything.
func TestFailingCreateHook(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo no network for you >&2; exit 3"}}}}
	}, "true")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	requireOneLineError(t, e.cmrun("create", "--bundle", bundle, id), "createRuntime hook 0 (/bin/sh): exit status 3: no network for you")
	e.requireNoLeftovers(id, bundle)
}

// TestHookTimeout: a hook that outlives its timeout fails create.
func TestHookTimeout(t *testing.T) {
	e := newEnv(t)
	one := 1
	bundle := e.bundle(func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "30"}, Timeout: &one}}}
	}, "true")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	requireOneLineError(t, e.cmrun("create", "--bundle", bundle, id), "prestart hook 0 (/bin/sleep): timed out after 1s")
	e.requireNoLeftovers(id, bundle)
}

func readState(t *testing.T, path string) specs.State {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var st specs.State
	require.NoError(t, json.Unmarshal(data, &st), string(data))
	return st
}

// TestPoststartAfterExec: start returns, and poststart hooks run, only
// once the user's program has replaced the init, even when a slow
// startContainer hook delays that exec.
func TestPoststartAfterExec(t *testing.T) {
	e := newEnv(t)
	exe := filepath.Join(t.TempDir(), "exe")
	bundle := e.bundle(func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{
			StartContainer: []specs.Hook{{Path: "/bin/sleep", Args: []string{"sleep", "0.3"}}},
			Poststart: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
				`pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p'); readlink /proc/$pid/exe > ` + exe}}},
		}
	}, "sleep", "600")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	require.Equal(t, 0, e.cmrun("create", "--bundle", bundle, id).code)
	r := e.cmrun("start", id)
	require.Equal(t, 0, r.code, r.stderr)
	data, err := os.ReadFile(exe)
	require.NoError(t, err)
	require.Equal(t, "/bin/busybox\n", string(data), "the poststart hook saw the program, not the init")
}

// TestPoststartQuickProgram: a program that is gone before the poststart
// hook runs still makes the hook see a started container, with its pid.
// Whether "true" has exited by then is a race, so it runs a few times.
func TestPoststartQuickProgram(t *testing.T) {
	e := newEnv(t)
	saved := filepath.Join(t.TempDir(), "poststart.json")
	bundle := e.bundle(func(s *specs.Spec) {
		s.Hooks = &specs.Hooks{Poststart: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + saved}}}}
	}, "true")
	for range 8 {
		id := e.newID()
		t.Cleanup(func() { e.forceDelete(id) })
		require.Equal(t, 0, e.cmrun("create", "--bundle", bundle, id).code)
		pid := e.state(id).Pid
		r := e.cmrun("start", id)
		require.Equal(t, 0, r.code, r.stderr)
		st := readState(t, saved)
		require.Equal(t, specs.StateRunning, st.Status)
		require.Equal(t, pid, st.Pid)
	}
}
