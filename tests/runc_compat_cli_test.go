package tests

// runc compatibility of the command line and its output: help, version,
// spec, ps, list, kill, delete, update, --debug (see runc_compat_test.go;
// exec is in runc_compat_exec_test.go).

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// TestRuncCompatHelp: every way of asking for help works as with runc,
// on stdout, and each command's help lists every flag runc's lists.
func TestRuncCompatHelp(t *testing.T) {
	p := newPair(t)
	for _, args := range [][]string{{}, {"--help"}, {"-h"}, {"help"}, {"h"}} {
		r, c := p.both("", args...)
		sameCode(t, r, c, strings.Join(args, " "))
		require.Contains(t, c.stdout, "COMMANDS:")
		require.Contains(t, c.stdout, "GLOBAL OPTIONS:")
		for _, name := range runcCommands {
			require.Regexp(t, regexp.MustCompile(`(?m)^   `+name+` `), c.stdout, "%v: command %s not listed", args, name)
		}
		require.Subset(t, helpFlags(c.stdout), helpFlags(r.stdout), "global flags")
	}
	for _, args := range [][]string{{"nosuch"}, {"help", "nosuch"}} {
		r, c := p.both("", args...)
		sameCode(t, r, c, strings.Join(args, " "))
	}
	for _, name := range runcCommands {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			r, c := p.both("", args...)
			sameCode(t, r, c, strings.Join(args, " "))
			require.Regexp(t, regexp.MustCompile(`^NAME:\n   cmrun `+name+` - `), c.stdout)
			require.Contains(t, c.stdout, "\nUSAGE:\n   cmrun "+name)
			require.Empty(t, c.stderr)
			if name == "checkpoint" || name == "restore" {
				continue // cmrun refuses them whatever the flags
			}
			require.Subset(t, helpFlags(c.stdout), helpFlags(r.stdout), "%s's flags", name)
		}
	}
}

// TestRuncCompatVersion: --version, -v and the version command print
// runc's lines (tools parse "version", "commit" and "spec").
func TestRuncCompatVersion(t *testing.T) {
	p := newPair(t)
	shape := func(out string) []string {
		var keys []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			k, _, _ := strings.Cut(line, ":")
			if strings.Contains(k, " version ") {
				k = "version" // "runc version 1.1.5", "cmrun version 0.1.0"
			}
			keys = append(keys, k)
		}
		return keys
	}
	for _, args := range [][]string{{"--version"}, {"-v"}} {
		r, c := p.both("", args...)
		sameCode(t, r, c, args[0])
		require.Equal(t, shape(r.stdout), shape(c.stdout))
	}
	r, c := p.both("", "--version")
	v := p.e.cmrun("version")
	require.Equal(t, 0, v.code)
	require.Equal(t, c.stdout, v.stdout)
	require.Equal(t, shape(r.stdout), shape(v.stdout))
}

// TestRuncCompatSpec: "cmrun spec" writes runc's default config, field
// for field (ociVersion says which spec each runtime implements);
// "cmrun spec --cm" writes cm's stricter one.
func TestRuncCompatSpec(t *testing.T) {
	p := newPair(t)
	rdir, cdir := filepath.Join(p.e.dir, "runc-spec"), filepath.Join(p.e.dir, "cmrun-spec")
	require.NoError(t, os.Mkdir(rdir, 0o755))
	require.NoError(t, os.Mkdir(cdir, 0o755))
	r := p.runc("spec", "--bundle", rdir)
	c := p.e.cmrun("spec", "--bundle", cdir)
	sameCode(t, r, c, "spec")
	read := func(dir string) map[string]any {
		data, err := os.ReadFile(filepath.Join(dir, "config.json"))
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(data, &m))
		delete(m, "ociVersion")
		return m
	}
	require.Equal(t, read(rdir), read(cdir))

	// Existing file: both refuse.
	r, c = p.runc("spec", "--bundle", rdir), p.e.cmrun("spec", "--bundle", cdir)
	sameCode(t, r, c, "spec over an existing config.json")

	mdir := filepath.Join(p.e.dir, "cm-spec")
	require.NoError(t, os.Mkdir(mdir, 0o755))
	require.Equal(t, 0, p.e.cmrun("spec", "--cm", "--bundle", mdir).code)
	data, err := os.ReadFile(filepath.Join(mdir, "config.json"))
	require.NoError(t, err)
	cm := decodeSpec(t, data)
	require.NotNil(t, cm.Linux.Seccomp)
	require.Contains(t, cm.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
}

// TestRuncCompatPs: ps prints ps -ef's columns, passes ps options
// through, and -f json is one line.
func TestRuncCompatPs(t *testing.T) {
	p := newPair(t)
	id := p.start(p.bundle(nil, "sleep", "300"))
	tests := []struct {
		name string
		args []string
	}{
		{"default ps -ef", []string{"ps", id}},
		{"ps options", []string{"ps", id, "-e", "-x"}},
		{"ps options with a format", []string{"ps", id, "-o", "pid,comm"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, c := p.both(id, tc.args...)
			sameCode(t, r, c, tc.name)
			rl := strings.Split(strings.TrimSpace(r.stdout), "\n")
			cl := strings.Split(strings.TrimSpace(c.stdout), "\n")
			require.Equal(t, rl[0], cl[0], "header")
			require.Len(t, cl, len(rl), "one line per process: %s", c.stdout)
			require.Contains(t, cl[1], "sleep")
		})
	}
	r, c := p.both(id, "ps", "-f", "json", id)
	sameCode(t, r, c, "ps -f json")
	require.Regexp(t, regexp.MustCompile(`^\[\d+\]\n$`), r.stdout)
	require.Regexp(t, regexp.MustCompile(`^\[\d+\]\n$`), c.stdout)
	r, c = p.both(id, "ps", id, "-o", "comm")
	sameCode(t, r, c, "ps without a PID column")
	require.NotEqual(t, 0, c.code)
}

// TestRuncCompatListState: list --format json is one line with runc's
// fields, the table has runc's columns, state has runc's fields.
func TestRuncCompatListState(t *testing.T) {
	p := newPair(t)
	id := p.start(p.bundle(nil, "sleep", "300"))
	keys := func(t *testing.T, line string) []string {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		var k []string
		for key := range m {
			k = append(k, key)
		}
		sort.Strings(k)
		return k
	}
	r, c := p.both(id, "list", "--format", "json")
	sameCode(t, r, c, "list -f json")
	require.Equal(t, 1, strings.Count(r.stdout, "\n"))
	require.Equal(t, 1, strings.Count(c.stdout, "\n"), c.stdout)
	var rl, cl []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rl))
	require.NoError(t, json.Unmarshal([]byte(c.stdout), &cl))
	require.Len(t, cl, 1)
	require.Equal(t, keys(t, string(rl[0])), keys(t, string(cl[0])))
	require.Contains(t, string(cl[0]), `"owner":"root"`)
	require.Contains(t, string(cl[0]), `"rootfs":"`)

	r, c = p.both(id, "list")
	sameCode(t, r, c, "list")
	require.Equal(t, strings.Fields(strings.Split(r.stdout, "\n")[0]), strings.Fields(strings.Split(c.stdout, "\n")[0]))

	r, c = p.both(id, "state", id)
	sameCode(t, r, c, "state")
	require.Subset(t, keys(t, c.stdout), keys(t, r.stdout))

	p2 := newPair(t) // an empty root: runc prints null, cmrun an empty list
	r, c = p2.both("", "list", "--format", "json")
	sameCode(t, r, c, "list -f json of nothing")
	require.Equal(t, "[]\n", c.stdout)
}

// TestRuncCompatKillDelete: signal 0 probes, with or without --all;
// delete --force of a missing container succeeds, plain delete fails.
func TestRuncCompatKillDelete(t *testing.T) {
	p := newPair(t)
	id := p.start(p.bundle(nil, "sleep", "300"))
	for _, args := range [][]string{{"kill", "--all", id, "0"}, {"kill", id, "0"}, {"kill", id, "SIGCONT"}} {
		r, c := p.both(id, args...)
		sameCode(t, r, c, strings.Join(args, " "))
		require.Equal(t, 0, c.code)
	}
	r, c := p.both(id, "kill", "--all", id, "KILL")
	sameCode(t, r, c, "kill --all KILL")
	require.Eventually(t, func() bool {
		return p.e.state(id).Status == specs.StateStopped
	}, waitLong, tick)
	r, c = p.both(id, "kill", id, "0")
	sameCode(t, r, c, "kill 0 of a stopped container")
	require.NotEqual(t, 0, c.code)

	r, c = p.both("", "delete", "--force", "nosuch")
	sameCode(t, r, c, "delete --force nosuch")
	require.Equal(t, 0, c.code)
	r, c = p.both("", "delete", "nosuch")
	sameCode(t, r, c, "delete nosuch")
}

// TestRuncCompatRunKeep: run --keep leaves the stopped container for delete.
func TestRuncCompatRunKeep(t *testing.T) {
	p := newPair(t)
	bundle := p.bundle(nil, "true")
	id := p.newID()
	r, c := p.both(id, "run", "--keep", "--bundle", bundle, id)
	sameCode(t, r, c, "run --keep")
	require.Equal(t, 0, c.code, c.stderr)
	require.Equal(t, specs.StateStopped, p.e.state(id).Status)
	r, c = p.both(id, "delete", id)
	sameCode(t, r, c, "delete of the kept container")
	require.Equal(t, 0, c.code, c.stderr)
	p.e.requireNoLeftovers(id, bundle)
}

// TestRuncCompatCheckpoint: checkpoint and restore fail, and cmrun says
// in one line that it does not support them.
func TestRuncCompatCheckpoint(t *testing.T) {
	p := newPair(t)
	id := p.start(p.bundle(nil, "sleep", "300"))
	for _, args := range [][]string{{"checkpoint", id}, {"checkpoint", "--image-path", p.e.dir, id}, {"restore", id}} {
		r, c := p.both(id, args...)
		require.NotEqual(t, 0, r.code)
		requireOneLineError(t, c, args[0]+": not supported")
	}
}

// TestRuncCompatUpdate: runc's per-limit flags, with the same effect on
// the cgroup files; device rules in a -r file that runc accepts.
func TestRuncCompatUpdate(t *testing.T) {
	p := newPair(t)
	id := p.start(p.bundle(nil, "sleep", "300"))
	rpid, cpid := p.pids(id)
	// value reads a cgroup file of the container from the hierarchy that has it.
	value := func(pid int, file string) string {
		for _, dir := range processCgroupDirs(t, pid) {
			if data, err := os.ReadFile(filepath.Join(dir, file)); err == nil {
				return strings.TrimSpace(string(data))
			}
		}
		t.Fatalf("no cgroup file %s for pid %d", file, pid)
		return ""
	}
	memFile, pidsFile, quotaFile := "memory.limit_in_bytes", "pids.max", "cpu.cfs_quota_us"
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil { // cgroup v2 only
		memFile, quotaFile = "memory.max", "cpu.max"
	}
	tests := []struct {
		name  string
		args  []string
		files []string // must read the same in both containers after
		ok    bool
	}{
		{"memory with a unit", []string{"--memory", "10M"}, []string{memFile}, true},
		{"memory and unlimited swap", []string{"--memory", "20000000", "--memory-swap", "-1"}, []string{memFile}, true},
		{"cpu and pids", []string{"--pids-limit", "50", "--cpu-quota", "5000", "--cpu-period", "100000", "--cpu-share", "512", "--cpuset-cpus", "0"},
			[]string{pidsFile, quotaFile}, true},
		{"memory reservation", []string{"--memory-reservation", "8M"}, nil, true},
		{"RDT schema", []string{"--l3-cache-schema", "L3:0=f"}, nil, false},
		{"memory bandwidth schema", []string{"--mem-bw-schema", "MB:0=50"}, nil, false},
		{"bad memory", []string{"--memory", "lots"}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, c := p.both(id, append(append([]string{"update"}, tc.args...), id)...)
			sameCode(t, r, c, tc.name)
			require.Equal(t, tc.ok, c.code == 0, c.stderr)
			if tc.ok {
				require.Empty(t, c.stderr)
			}
			for _, f := range tc.files {
				require.Equal(t, value(rpid, f), value(cpid, f), f)
			}
		})
	}
	t.Run("device rules runc accepts", func(t *testing.T) {
		res := filepath.Join(p.e.dir, "res.json")
		require.NoError(t, os.WriteFile(res, []byte(`{"devices":[{"allow":false,"access":"rwa"}],"pids":{"limit":40}}`), 0o644))
		r, c := p.both(id, "update", "-r", res, id)
		sameCode(t, r, c, "update -r with rwa")
		require.Equal(t, 0, c.code)
		require.Equal(t, "40", value(cpid, pidsFile))
		// The device rules stay as created, as with runc: /dev/null still works.
		r, c = p.both(id, "exec", id, "sh", "-c", "echo x > /dev/null")
		sameCode(t, r, c, "use /dev/null after the update")
	})
}

// TestRuncCompatDebug: --debug writes runc's level=debug lines, with the
// preamble's progress among them.
func TestRuncCompatDebug(t *testing.T) {
	p := newPair(t)
	bundle := p.bundle(nil, "true")
	id := p.newID()
	r, c := p.both(id, "--debug", "run", "--bundle", bundle, id)
	sameCode(t, r, c, "--debug run")
	line := regexp.MustCompile(`(?m)^time="[^"]+" level=debug msg=".*"$`)
	require.Regexp(t, line, r.stderr)
	require.Regexp(t, line, c.stderr)
	require.Regexp(t, regexp.MustCompile(`level=debug msg="cmrun: nsexec: `), c.stderr)
	require.Regexp(t, regexp.MustCompile(`level=debug msg="init: pivot_root `), c.stderr)
}

// TestRuncCompatQuiet: runc's default config runs without a word on
// stderr from either runtime, so scripts can compare output.
func TestRuncCompatQuiet(t *testing.T) {
	p := newPair(t)
	bundle := p.bundle(nil, "echo", "hello")
	id := p.newID()
	r, c := p.both(id, "run", "--bundle", bundle, id)
	sameCode(t, r, c, "run")
	require.Equal(t, r.stdout, c.stdout)
	require.Equal(t, r.stderr, c.stderr)
	require.Equal(t, "", c.stderr)
}
