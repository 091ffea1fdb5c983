package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/runtime"
	"cm/runtime/lazyjson"
)

func cmdExec(g *globals, args []string) error {
	fs := newFlags("exec")
	fs.SetInterspersed(false) // flags after the command belong to the command
	processFile := fs.StringP("process", "p", "", "JSON file with the process to run (OCI process object)")
	detach := fs.BoolP("detach", "d", false, "return once the process has started")
	pidFile := fs.String("pid-file", "", "write the process's pid to this file")
	consoleSocket := fs.String("console-socket", "", "AF_UNIX socket that receives the pty master")
	tty := fs.BoolP("tty", "t", false, "allocate a terminal")
	cwd := fs.String("cwd", "", "working directory inside the container")
	env := fs.StringArrayP("env", "e", nil, "set an environment variable (KEY=VALUE), repeatable")
	user := fs.StringP("user", "u", "", "UID[:GID] to run as")
	groups := fs.StringArrayP("additional-gids", "g", nil, "additional group id, repeatable")
	caps := fs.StringArrayP("cap", "c", nil, "add a capability, repeatable")
	noNewPrivs := fs.Bool("no-new-privs", false, "set no_new_privs")
	preserveFDs := fs.Int("preserve-fds", 0, "pass N extra file descriptors (from fd 3)")
	trace := fs.Bool("trace", false, "print each setup step with its duration to stderr")
	subCgroup := fs.String("cgroup", "", "run the process in this existing sub-cgroup of the container's")
	ignorePaused := fs.Bool("ignore-paused", false, "allow exec in a paused container (the process starts frozen)")
	for _, name := range []string{"process-label", "apparmor"} {
		fs.String(name, "", "not supported by cmrun")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, name := range []string{"process-label", "apparmor"} {
		if fs.Changed(name) {
			return fmt.Errorf("exec: --%s is not supported by cmrun", name)
		}
	}
	rest := fs.Args()
	if len(rest) < 1 {
		return fmt.Errorf("exec: missing argument (usage: cmrun exec %s)", commands["exec"].usage)
	}
	id, command := rest[0], rest[1:]
	c, err := runtime.Load(g.root, id)
	if err != nil {
		return err
	}
	if c.Config == nil {
		return fmt.Errorf("exec: container %s is still being created", id)
	}
	var p *specs.Process
	if *processFile != "" {
		if len(command) > 0 {
			return fmt.Errorf("exec: give either --process or a command, not both")
		}
		if p, err = readProcess(*processFile); err != nil {
			return err
		}
	} else {
		if len(command) == 0 {
			return fmt.Errorf("exec: missing command (or --process)")
		}
		// Start from the container's own process: its user, environment,
		// capabilities and limits, with the new command line.
		copied := *c.Config.Process
		p = &copied
		p.Args = command
		p.Terminal = *tty
		p.Env = append(append([]string{}, p.Env...), *env...)
		if *cwd != "" {
			p.Cwd = *cwd
		}
		if *user != "" {
			if err := parseUser(*user, &p.User); err != nil {
				return err
			}
		}
		for _, gid := range *groups {
			n, err := strconv.ParseUint(gid, 10, 32)
			if err != nil {
				return fmt.Errorf("exec: --additional-gids %q: not a number", gid)
			}
			p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(n))
		}
		if len(*caps) > 0 {
			p.Capabilities = addCaps(p.Capabilities, *caps)
		}
		if *noNewPrivs {
			p.NoNewPrivileges = true
		}
	}
	o := runtime.ExecOptions{
		SpawnOptions: runtime.SpawnOptions{Root: g.root, ID: id, PidFile: *pidFile,
			ConsoleSocket: *consoleSocket, PreserveFDs: *preserveFDs, Trace: runtime.NewTrace(*trace || g.debug),
			Warn: g.log.warnRuntime, Debug: func(m string) { g.log.debugf("%s", m) }},
		Process: p, Detach: *detach, IgnorePaused: *ignorePaused, SubCgroup: *subCgroup}
	code, err := runtime.Exec(o)
	g.finishTrace(o.Trace, *trace)
	if err != nil {
		return err
	}
	return exitStatus(code)
}

func readProcess(path string) (*specs.Process, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("exec: --process: %w", err)
	}
	var p specs.Process
	if err := lazyjson.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("exec: --process %s: invalid JSON: %w", path, err)
	}
	return &p, nil
}

func parseUser(s string, u *specs.User) error {
	uidText, gidText, hasGid := strings.Cut(s, ":")
	uid, err := strconv.ParseUint(uidText, 10, 32)
	if err != nil {
		return fmt.Errorf("exec: --user %q: want UID[:GID] as numbers", s)
	}
	u.UID = uint32(uid)
	if hasGid {
		gid, err := strconv.ParseUint(gidText, 10, 32)
		if err != nil {
			return fmt.Errorf("exec: --user %q: want UID[:GID] as numbers", s)
		}
		u.GID = uint32(gid)
	}
	return nil
}

// addCaps adds capabilities to every set, as runc's exec --cap does.
func addCaps(c *specs.LinuxCapabilities, add []string) *specs.LinuxCapabilities {
	out := &specs.LinuxCapabilities{}
	if c != nil {
		*out = *c
	}
	out.Bounding = append(append([]string{}, out.Bounding...), add...)
	out.Effective = append(append([]string{}, out.Effective...), add...)
	out.Permitted = append(append([]string{}, out.Permitted...), add...)
	return out
}
