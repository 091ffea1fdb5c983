package tests

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// TestCreateBadInput feeds broken bundles to create and run: each must
// fail with one line naming the problem and leave nothing behind.
func TestCreateBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		setup func(bundle string) // breaks the bundle
		want  string
	}{
		{"malformed JSON", func(b string) { writeFile(t, b, "config.json", `{"ociVersion": "1.0.2", "process": {`) },
			"config.json: invalid JSON: the file ends in the middle of a value"},
		{"syntax error", func(b string) { writeFile(t, b, "config.json", "{\n  \"ociVersion\": 1.0.2\n}") },
			"config.json: invalid JSON at line 2, column 20"},
		{"wrong type", func(b string) { writeFile(t, b, "config.json", `{"ociVersion": "1.0.2", "process": {"args": "sh"}}`) },
			"config.json: process.args: must be []string, not a JSON string"},
		{"no config", func(b string) { os.Remove(filepath.Join(b, "config.json")) }, "no config.json in it"},
		{"missing process.args", edit(t, func(s *specs.Spec) { s.Process.Args = nil }), "config.json: process.args: must not be empty"},
		{"missing rootfs", func(b string) { os.RemoveAll(filepath.Join(b, "rootfs")) }, "config.json: root.path: "},
		{"nonexistent executable", edit(t, func(s *specs.Spec) { s.Process.Args = []string{"no-such-program"} }),
			`exec "no-such-program": executable file not found in $PATH`},
		{"nonexistent absolute executable", edit(t, func(s *specs.Spec) { s.Process.Args = []string{"/bin/nope"} }),
			`exec "/bin/nope": no such file or directory`},
		{"relative cwd", edit(t, func(s *specs.Spec) { s.Process.Cwd = "tmp" }), `config.json: process.cwd: "tmp" must be an absolute path`},
		{"unknown namespace", edit(t, func(s *specs.Spec) { s.Linux.Namespaces[0].Type = "pidd" }),
			`config.json: linux.namespaces[0].type: unknown namespace type "pidd"`},
		{"duplicate namespace", edit(t, func(s *specs.Spec) { s.Linux.Namespaces[1].Type = "pid" }),
			`config.json: linux.namespaces[1].type: namespace "pid" is listed twice`},
		{"namespace path of wrong type", edit(t, func(s *specs.Spec) { s.Linux.Namespaces[0].Path = "/proc/self/ns/net" }),
			"config.json: linux.namespaces[0].path: /proc/self/ns/net is a network namespace, not pid"},
		{"unknown rlimit", edit(t, func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_FOO" }),
			`config.json: process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"`},
		{"hostname without uts namespace", edit(t, func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}}
		}), "config.json: hostname: needs a UTS namespace"},
		{"host sysctl", edit(t, func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} }),
			"config.json: linux.sysctl.vm.swappiness: is not namespaced"},
		{"unknown mount option", edit(t, func(s *specs.Spec) { s.Mounts[0].Options = []string{"idmap"} }),
			`config.json: mounts[0].options: "idmap" (idmapped mounts) is not supported by cmrun`},
		{"failing mount", edit(t, func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "nosuchfs", Source: "x"})
		}), "mount x (nosuchfs) on /mnt: no such device"},
		{"bad bind source", edit(t, func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: "/no/such/dir", Options: []string{"bind"}})
		}), "bind source: stat /no/such/dir: no such file or directory"},
		{"uid map without user namespace", edit(t, func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
		}), "config.json: linux.uidMappings: needs a new user namespace"},
		{"terminal without console socket", edit(t, func(s *specs.Spec) { s.Process.Terminal = true }),
			"config.json: process.terminal: a terminal needs --console-socket"},
	}
	for _, tc := range tests {
		for _, cmd := range []string{"create", "run"} {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				e := &env{t: t, root: e.root, dir: e.dir}
				bundle := e.bundle(nil, "true")
				tc.setup(bundle)
				id := e.newID()
				t.Cleanup(func() { e.forceDelete(id) })
				args := []string{cmd, "--bundle", bundle, id}
				if cmd == "run" && tc.name == "terminal without console socket" {
					args = []string{cmd, "--detach", "--bundle", bundle, id}
				}
				requireOneLineError(t, e.cmrun(args...), tc.want)
				e.requireNoLeftovers(id, bundle)
			})
		}
	}
}

// TestCommandBadInput covers wrong ids, states, flags and signals.
func TestCommandBadInput(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(nil, "sleep", "600")
	running := e.newID()
	t.Cleanup(func() { e.forceDelete(running) })
	require.Equal(t, 0, e.cmrun("run", "--detach", "--bundle", bundle, running).code)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"state of unknown", []string{"state", "nope"}, `container "nope" does not exist`},
		{"start unknown", []string{"start", "nope"}, `container "nope" does not exist`},
		{"kill unknown", []string{"kill", "nope", "KILL"}, `container "nope" does not exist`},
		{"delete unknown", []string{"delete", "nope"}, `container "nope" does not exist`},
		{"start twice", []string{"start", running}, "container is not in created state (it is running)"},
		{"delete running", []string{"delete", running}, "that is running: container is not stopped (use --force)"},
		{"create existing", []string{"create", "--bundle", bundle, running}, "already exists"},
		{"bad id", []string{"create", "--bundle", bundle, "../escape"}, `container id "../escape": only letters`},
		{"unknown flag", []string{"create", "--bogus", running}, "unknown flag: --bogus"},
		{"unknown global flag", []string{"--bogus", "list"}, "unknown flag: --bogus"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad signal", []string{"kill", running, "SIGFOO"}, `unknown signal "SIGFOO"`},
		{"signal out of range", []string{"kill", running, "99"}, "signal 99: out of range"},
		{"missing id", []string{"start"}, "start: missing argument"},
		{"extra argument", []string{"state", running, "extra"}, `state: unexpected argument "extra"`},
		{"bad log format", []string{"--log-format", "xml", "list"}, `--log-format: unknown format "xml"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, root: e.root, dir: e.dir}
			requireOneLineError(t, e.cmrun(tc.args...), tc.want)
		})
	}
	// None of that disturbed the running container.
	require.Equal(t, specs.StateRunning, e.state(running).Status)
	require.Equal(t, 0, e.cmrun("delete", "--force", running).code)
	e.requireNoLeftovers(running, bundle)
}

// TestKillStopped checks the OCI rule that a stopped container cannot be signalled.
func TestKillStopped(t *testing.T) {
	e := newEnv(t)
	bundle := e.bundle(nil, "true")
	id := e.newID()
	t.Cleanup(func() { e.forceDelete(id) })
	require.Equal(t, 0, e.cmrun("run", "--detach", "--bundle", bundle, id).code)
	require.Eventually(t, func() bool { return e.state(id).Status == specs.StateStopped }, waitLong, tick)
	requireOneLineError(t, e.cmrun("kill", id, "TERM"), "container not running")
	require.Equal(t, 0, e.cmrun("delete", id).code)
	e.requireNoLeftovers(id, bundle)
}

func writeFile(t *testing.T, dir, name, content string) {
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
}

// edit returns a setup function that rewrites a bundle's config.
func edit(t *testing.T, f func(*specs.Spec)) func(string) {
	return func(bundle string) {
		e := &env{t: t}
		data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
		require.NoError(t, err)
		s := decodeSpec(t, data)
		f(s)
		e.writeConfig(bundle, s)
	}
}
