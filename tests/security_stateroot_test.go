package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// nobody is the unprivileged user who plays the attacker.
const nobody = 65534

// keyctlSource tries keyctl(2), which the default seccomp profile denies
// with EPERM: what it prints tells which filter the container got.
const keyctlSource = `package main

import (
	"fmt"
	"syscall"
)

func main() {
	const getKeyringID, sessionKeyring = 0, ^uintptr(2) // KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING (-3)
	_, _, errno := syscall.Syscall(syscall.SYS_KEYCTL, getKeyringID, sessionKeyring, 1)
	if errno == 0 {
		fmt.Println("keyctl allowed")
	} else {
		fmt.Printf("keyctl denied: errno %d\n", int(errno))
	}
}
`

var (
	keyctlOnce sync.Once
	keyctlBin  string
	keyctlErr  error
)

// keyctlProgram builds the static keyctl probe once per test binary.
func keyctlProgram(t *testing.T) string {
	t.Helper()
	keyctlOnce.Do(func() {
		dir := filepath.Join(filepath.Dir(binDir), "keyctl")
		if keyctlErr = os.MkdirAll(dir, 0o755); keyctlErr != nil {
			return
		}
		src := filepath.Join(dir, "main.go")
		if keyctlErr = os.WriteFile(src, []byte(keyctlSource), 0o644); keyctlErr != nil {
			return
		}
		keyctlBin = filepath.Join(dir, "keyctl")
		cmd := exec.Command("go", "build", "-o", keyctlBin, src)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			keyctlErr = fmt.Errorf("build keyctl probe: %v: %s", err, out)
		}
	})
	require.NoError(t, keyctlErr)
	return keyctlBin
}

// keyctlBundle is a bundle whose container runs the keyctl probe under
// the given seccomp profile (nil: the default one, which denies keyctl).
func (e *env) keyctlBundle(profile *specs.LinuxSeccomp) string {
	e.t.Helper()
	bundle := e.bundle(func(s *specs.Spec) {
		if profile != nil {
			s.Linux.Seccomp = profile
		}
	}, "/keyctl")
	out, err := exec.Command("cp", keyctlProgram(e.t), filepath.Join(bundle, "rootfs", "keyctl")).CombinedOutput()
	require.NoError(e.t, err, string(out))
	return bundle
}

// asNobody runs a shell command as the attacker.
func asNobody(t *testing.T, script string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "as uid %d: %s: %s", nobody, script, out)
}

// openToOthers lets other users reach dir: test temporary directories are 0700.
func openToOthers(t *testing.T, dir string) {
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		require.NoError(t, os.Chmod(d, 0o755))
	}
}

// cacheEntries lists the compiled seccomp programs cached under root.
func cacheEntries(t *testing.T, root string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, ".seccomp-cache", "*"))
	require.NoError(t, err)
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".tmp") {
			out = append(out, f)
		}
	}
	return out
}

// permissiveEntry compiles a profile that allows everything, in a root of
// its own, and returns the cached program's bytes: what an attacker
// plants to lift a container's seccomp restrictions.
func (e *env) permissiveEntry() []byte {
	e.t.Helper()
	other := &env{t: e.t, root: filepath.Join(e.dir, "permissive-state"), dir: e.dir}
	r := other.run(other.keyctlBundle(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow}))
	require.Equal(e.t, 0, r.code, r.stderr)
	require.Equal(e.t, "keyctl allowed\n", r.stdout, "the probe sees an allow-all filter")
	entries := cacheEntries(e.t, other.root)
	require.Len(e.t, entries, 1)
	data, err := os.ReadFile(entries[0])
	require.NoError(e.t, err)
	return data
}

// TestSecurityStateRoot attacks the state root: a root another user can
// write, a tampered seccomp cache, and a forged state.json.
func TestSecurityStateRoot(t *testing.T) {
	t.Run("root of another user refused", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			uid  int
			mode os.FileMode
			want string
		}{
			{"owned by nobody", nobody, 0o700, "owned by uid 65534 with mode 0700"},
			{"writable by others", 0, 0o777, "owned by uid 0 with mode 0777"},
			{"writable by group", 0, 0o770, "owned by uid 0 with mode 0770"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := newEnv(t)
				require.NoError(t, os.Mkdir(e.root, tc.mode))
				require.NoError(t, os.Chmod(e.root, tc.mode))
				require.NoError(t, os.Chown(e.root, tc.uid, tc.uid))
				bundle := e.bundle(nil, "true")
				id := e.newID()
				t.Cleanup(func() { e.forceDelete(id) })
				requireOneLineError(t, e.cmrun("run", "--bundle", bundle, id),
					"state root "+e.root+" is "+tc.want+": it must be owned by uid 0 and writable by it alone")
				entries, err := os.ReadDir(e.root)
				require.NoError(t, err)
				require.Empty(t, entries, "nothing is made in a refused root")
				for _, cmd := range [][]string{{"list"}, {"state", id}, {"delete", "--force", id}, {"kill", id}} {
					requireOneLineError(t, e.cmrun(cmd...), "state root "+e.root+" is "+tc.want)
				}
			})
		}
	})

	t.Run("seccomp cache replaced in a shared root", func(t *testing.T) {
		e := newEnv(t)
		evil := e.permissiveEntry()
		evilFile := filepath.Join(e.dir, "evil")
		require.NoError(t, os.WriteFile(evilFile, evil, 0o644))
		openToOthers(t, e.dir)
		// A world-writable sticky directory, like /tmp, where anyone may
		// make the root first.
		shared := filepath.Join(e.dir, "shared")
		require.NoError(t, os.Mkdir(shared, 0o755))
		require.NoError(t, os.Chmod(shared, os.ModeSticky|0o777))
		e.root = filepath.Join(shared, "state")
		// The attacker makes the root (and its cache directory) before
		// root's first container, so root's files land in its directories.
		asNobody(t, fmt.Sprintf("mkdir -m 0777 %[1]s %[1]s/.seccomp-cache", e.root))
		bundle := e.keyctlBundle(nil)
		first := e.run(bundle)
		// The attacker swaps every compiled program for the allow-all one.
		asNobody(t, fmt.Sprintf(`for f in %s/.seccomp-cache/*; do cp %s "$f.new" && mv -f "$f.new" "$f"; done`, e.root, evilFile))
		second := e.run(bundle)
		require.NotContains(t, second.stdout, "keyctl allowed", "the attacker's filter was used (first run: %q)", first.stdout)
		for _, r := range []result{first, second} {
			requireOneLineError(t, r, "state root "+e.root+" is owned by uid 65534 with mode 0777")
		}
	})

	t.Run("tampered seccomp cache entry recompiled", func(t *testing.T) {
		e := newEnv(t)
		evil := e.permissiveEntry()
		bundle := e.keyctlBundle(nil)
		first := e.run(bundle)
		require.Equal(t, 0, first.code, first.stderr)
		require.Equal(t, "keyctl denied: errno 1\n", first.stdout)
		entries := cacheEntries(t, e.root)
		require.Len(t, entries, 1)
		require.NoError(t, os.WriteFile(entries[0], evil, 0o600))
		second := e.run(bundle)
		require.Equal(t, 0, second.code, second.stderr)
		require.Equal(t, "keyctl denied: errno 1\n", second.stdout, "the tampered entry must not be used")
		data, err := os.ReadFile(entries[0])
		require.NoError(t, err)
		require.NotEqual(t, evil, data, "the tampered entry is replaced by a fresh compile")
	})

	t.Run("forged state pid not signalled", func(t *testing.T) {
		e := newEnv(t)
		bundle := e.bundle(nil, "sleep", "1000")
		id := e.newID()
		t.Cleanup(func() { e.forceDelete(id) })
		r := e.cmrun("create", "--bundle", bundle, id)
		require.Equal(t, 0, r.code, r.stderr)

		// A process outside the container, with the pid and start time
		// written into the container's state: as if the init's pid had
		// been reused, or the state forged.
		victim := exec.Command("sleep", "1000")
		require.NoError(t, victim.Start())
		t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
		statePath := filepath.Join(e.root, id, "state.json")
		data, err := os.ReadFile(statePath)
		require.NoError(t, err)
		var state map[string]any
		require.NoError(t, json.Unmarshal(data, &state))
		state["pid"] = victim.Process.Pid
		state["pidStartTime"] = startTime(t, victim.Process.Pid)
		data, err = json.Marshal(state)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(statePath, data, 0o600))

		r = e.cmrun("kill", id, "KILL")
		require.True(t, alive(victim.Process.Pid), "kill signalled a process outside the container")
		requireOneLineError(t, r, fmt.Sprintf("container init %d is not in the container's cgroup", victim.Process.Pid))
		r = e.cmrun("delete", "--force", id)
		require.True(t, alive(victim.Process.Pid), "delete --force killed a process outside the container")
		require.Equal(t, 0, r.code, r.stderr)
		e.requireNoLeftovers(id, bundle)
	})

	t.Run("forged state cgroup not killed", func(t *testing.T) {
		e := newEnv(t)
		victimBundle := e.bundle(nil, "sleep", "1000")
		victim := e.newID()
		t.Cleanup(func() { e.forceDelete(victim) })
		r := e.cmrun("create", "--bundle", victimBundle, victim)
		require.Equal(t, 0, r.code, r.stderr)
		victimPid := e.state(victim).Pid

		bundle := e.bundle(nil, "sleep", "1000")
		id := e.newID()
		t.Cleanup(func() { e.forceDelete(id) })
		r = e.cmrun("create", "--bundle", bundle, id)
		require.Equal(t, 0, r.code, r.stderr)
		// The state of id now names the victim's cgroup.
		statePath := filepath.Join(e.root, id, "state.json")
		orig, err := os.ReadFile(statePath)
		require.NoError(t, err)
		var state map[string]any
		require.NoError(t, json.Unmarshal(orig, &state))
		var victimState map[string]any
		data, err := os.ReadFile(filepath.Join(e.root, victim, "state.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &victimState))
		state["cgroupPath"] = victimState["cgroupPath"]
		data, err = json.Marshal(state)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(statePath, data, 0o600))

		for _, args := range [][]string{{"delete", "--force", id}, {"kill", "--all", id, "KILL"}} {
			r = e.cmrun(args...)
			require.True(t, alive(victimPid), "%v killed the processes of another container's cgroup", args)
			requireOneLineError(t, r, fmt.Sprintf("state of %s is corrupt: cgroupPath %q is not", id, victimState["cgroupPath"]))
		}
		require.NoError(t, os.WriteFile(statePath, orig, 0o600))
		for _, c := range []string{id, victim} {
			r = e.cmrun("delete", "--force", c)
			require.Equal(t, 0, r.code, r.stderr)
		}
		e.requireNoLeftovers(id, bundle)
		e.requireNoLeftovers(victim, victimBundle)
	})

	t.Run("root.path resolving to the host root refused", func(t *testing.T) {
		e := newEnv(t)
		link := filepath.Join(e.dir, "slash")
		require.NoError(t, os.Symlink("/", link))
		for _, tc := range []struct{ path, want string }{
			{link, "config.json: root.path: " + link + " resolves to / (the host's root directory)"},
			{"/", "config.json: root.path: / is the host's root directory; a container needs a root filesystem of its own"},
		} {
			t.Run(tc.path, func(t *testing.T) {
				e := &env{t: t, root: e.root, dir: e.dir}
				bundle := e.bundle(func(s *specs.Spec) { s.Root.Path = tc.path }, "true")
				id := e.newID()
				t.Cleanup(func() { e.forceDelete(id) })
				requireOneLineError(t, e.cmrun("run", "--bundle", bundle, id), tc.want)
				e.requireNoLeftovers(id, bundle)
			})
		}
	})
}

// startTime reads a process's start time (field 22 of /proc/PID/stat).
func startTime(t *testing.T, pid int) uint64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	require.NoError(t, err)
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	start, err := strconv.ParseUint(fields[19], 10, 64)
	require.NoError(t, err)
	return start
}

// alive reports whether pid runs and is not a zombie.
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	return fields[0] != "Z" && fields[0] != "X"
}
