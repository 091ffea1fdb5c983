package tests

// cmrun is a drop-in for runc: each runc_compat test runs the same command
// against runc (Debian's, installed by make test) and cmrun, on the same
// bundle, each with its own --root, and compares what callers rely on:
// exit code, output shape, effect. This file holds the pair that runs
// them; runc_compat_cli_test.go and runc_compat_behaviour_test.go the tests.

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/runtime/spec"
)

// pair runs commands against both runtimes. A container's id for runc
// is its cmrun id plus "-runc": both runtimes put a container without
// cgroupsPath in the cgroup named after its id.
type pair struct {
	e        *env
	runcRoot string
}

func newPair(t *testing.T) *pair {
	t.Helper()
	_, err := exec.LookPath("runc")
	require.NoError(t, err, "runc must be installed (make deps-test installs it)")
	e := newEnv(t)
	return &pair{e: e, runcRoot: filepath.Join(e.dir, "runc-state")}
}

// runcID is the runc twin of a cmrun container id.
func runcID(id string) string { return id + "-runc" }

// runc runs runc with its own --root, as cmrun does with e.root.
func (p *pair) runc(args ...string) result {
	p.e.t.Helper()
	return p.e.runBinary("runc", append([]string{"--root", p.runcRoot}, args...))
}

// both runs args against each runtime; id, if not empty, is replaced by
// the runc twin in runc's arguments.
func (p *pair) both(id string, args ...string) (runc, cmrun result) {
	p.e.t.Helper()
	rargs := append([]string{}, args...)
	for i, a := range rargs {
		if id != "" && a == id {
			rargs[i] = runcID(id)
		}
	}
	return p.runc(rargs...), p.e.cmrun(args...)
}

// bundle writes a bundle from runc's own default config, running args.
func (p *pair) bundle(edit func(*specs.Spec), args ...string) string {
	return p.e.bundle(func(s *specs.Spec) {
		*s = *spec.RuncSpec()
		s.Process.Terminal = false
		s.Process.Args = args
		if edit != nil {
			edit(s)
		}
	})
}

// start runs a detached container of bundle in each runtime, and deletes both at the end.
func (p *pair) start(bundle string) (id string) {
	t := p.e.t
	t.Helper()
	id = p.newID()
	r, c := p.both(id, "run", "--detach", "--bundle", bundle, id)
	require.Equal(t, 0, r.code, "runc: %s", r.stderr)
	require.Equal(t, 0, c.code, "cmrun: %s", c.stderr)
	return id
}

// newID returns a new container id; the cmrun container and its runc
// twin are both force-deleted at the end of the test.
func (p *pair) newID() string {
	id := p.e.newID()
	p.e.t.Cleanup(func() {
		p.runc("delete", "--force", runcID(id))
		p.e.forceDelete(id)
	})
	return id
}

// runAlike runs bundle to its end in both runtimes and requires what
// callers rely on to agree: both exit 0 with the same output. It returns
// cmrun's result.
func (p *pair) runAlike(bundle, what string) result {
	t := p.e.t
	t.Helper()
	id := p.newID()
	r, c := p.both(id, "run", "--bundle", bundle, id)
	sameCode(t, r, c, what)
	require.Equal(t, 0, c.code, c.stderr)
	require.Equal(t, r.stdout, c.stdout, what)
	return c
}

// pids returns the init pids of a started pair.
func (p *pair) pids(id string) (runcPid, cmrunPid int) {
	p.e.t.Helper()
	var st specs.State
	r := p.runc("state", runcID(id))
	require.Equal(p.e.t, 0, r.code, r.stderr)
	require.NoError(p.e.t, json.Unmarshal([]byte(r.stdout), &st))
	return st.Pid, p.e.state(id).Pid
}

// runBinary runs a program on the host (see env.runCmd).
func (e *env) runBinary(name string, args []string) result {
	e.t.Helper()
	return e.runCmd(exec.Command(name, args...))
}

// sameCode checks both runtimes exited alike.
func sameCode(t *testing.T, r, c result, what string) {
	t.Helper()
	require.Equal(t, r.code, c.code, "%s: runc exited %d (%s), cmrun %d (%s)", what, r.code, strings.TrimSpace(r.stderr), c.code, strings.TrimSpace(c.stderr))
}

// helpFlags are the long flags a help text lists in its OPTIONS.
func helpFlags(help string) []string {
	var flags []string
	in := false
	for _, line := range strings.Split(help, "\n") {
		switch {
		case strings.HasSuffix(line, "OPTIONS:"):
			in = true
		case in && strings.HasPrefix(strings.TrimSpace(line), "-"):
			// "--version, -v" (runc), "-v, --version" (pflag): the long name.
			flags = append(flags, longFlag.FindString(line))
		}
	}
	sort.Strings(flags)
	return flags
}

var longFlag = regexp.MustCompile(`--[a-z][a-z0-9-]*`)

// runcCommands are the commands runc 1.1's help lists.
var runcCommands = []string{"checkpoint", "create", "delete", "events", "exec", "kill", "list", "pause", "ps",
	"restore", "resume", "run", "spec", "start", "state", "update", "features"}
