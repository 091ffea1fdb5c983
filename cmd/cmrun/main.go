// Command cmrun is cm's OCI runtime: it creates and runs containers from
// OCI bundles (config.json + root filesystem) with runc's command line,
// so tools that drive runc can drive cmrun.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	_ "cm/nsexec" // links the C preamble that runs before the Go runtime in a container init
	"cm/runtime"
)

// version is set at build time with -ldflags "-X main.version=...".
var (
	version = "0.1.0-dev"
	commit  = "unknown"
)

// globals are the flags that come before the command, as with runc.
type globals struct {
	root          string
	logPath       string
	logFormat     string
	debug         bool
	systemdCgroup bool
	log           *logger
}

// command is one cmrun subcommand.
type command struct {
	usage   string // arguments after the command name
	summary string
	run     func(g *globals, args []string) error
}

// commands is filled in init: the command functions refer back to it for their usage lines.
var commands map[string]command

func init() {
	commands = map[string]command{
		"create":   {"[flags] ID", "create a container from a bundle; it waits for start", cmdCreate},
		"start":    {"ID", "run the user's program in a created container", cmdStart},
		"run":      {"[flags] ID", "create, start and wait for a container; exits with its code", cmdRun},
		"exec":     {"[flags] ID [COMMAND [ARG...]]", "run another process in a created or running container", cmdExec},
		"state":    {"ID", "print the OCI state of a container as JSON", cmdState},
		"kill":     {"[--all] ID [SIGNAL]", "send a signal (default SIGTERM) to a container", cmdKill},
		"delete":   {"[--force] ID", "remove a stopped container (--force: any container)", cmdDelete},
		"list":     {"[--format table|json] [--quiet]", "list containers", cmdList},
		"pause":    {"ID", "freeze every process of a container", cmdPause},
		"resume":   {"ID", "thaw a paused container", cmdResume},
		"update":   {"--resources FILE|- ID", "change a container's cgroup limits (linux.resources JSON)", cmdUpdate},
		"events":   {"[--stats] [--interval D] ID", "print statistics and OOM events as JSON lines", cmdEvents},
		"ps":       {"[--format table|json] ID", "list the processes in a container", cmdPs},
		"features": {"", "print what this runtime supports (runtime-spec features.json)", cmdFeatures},
		"spec":     {"[--bundle DIR] [-- CMD [ARG...]]", "write a default config.json (running CMD without a terminal, if given)", cmdSpec},
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.Init() // only returns by exiting
	}
	os.Exit(cmrun(os.Args[1:]))
}

func cmrun(argv []string) int {
	g := &globals{}
	fs := pflag.NewFlagSet("cmrun", pflag.ContinueOnError)
	fs.SetInterspersed(false) // global flags end at the command name
	fs.StringVar(&g.root, "root", runtime.DefaultRoot, "directory for container state")
	fs.StringVar(&g.logPath, "log", "", "also write log messages to this file")
	fs.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&g.debug, "debug", false, "log debug messages")
	fs.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "refused by create and run: cmrun manages cgroupfs itself (no systemd cgroup driver)")
	showVersion := fs.BoolP("version", "v", false, "print the version")
	fs.Usage = func() { usage(fs) }
	g.log = newLogger(os.Stderr)
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return g.log.fail(err)
	}
	if err := g.log.configure(g.logPath, g.logFormat, g.debug); err != nil {
		return g.log.fail(err)
	}
	defer g.log.close()
	if *showVersion {
		fmt.Printf("cmrun version %s\ncommit: %s\nspec: %s\n", version, commit, specVersion())
		return 0
	}
	if fs.NArg() == 0 {
		usage(fs)
		return 2
	}
	name, args := fs.Arg(0), fs.Args()[1:]
	// A container made in cgroupfs where the engine and the kubelet expect
	// a systemd scope would escape their accounting: refuse, once, where
	// cgroups are made; the other commands only use the recorded path.
	if g.systemdCgroup && (name == "create" || name == "run") {
		return g.log.fail(errors.New("--systemd-cgroup: the systemd cgroup driver is not supported: cmrun manages cgroupfs itself; configure the engine for cgroupfs (containerd SystemdCgroup = false, CRI-O cgroup_manager = \"cgroupfs\", kubelet cgroupDriver: cgroupfs)"))
	}
	cmd, ok := commands[name]
	if !ok {
		return g.log.fail(fmt.Errorf("unknown command %q (see cmrun --help)", name))
	}
	if err := cmd.run(g, args); err != nil {
		var exit exitStatus
		if errors.As(err, &exit) {
			return int(exit)
		}
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		return g.log.fail(err)
	}
	return 0
}

// exitStatus is returned by "run" to exit with the container's code.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func usage(fs *pflag.FlagSet) {
	fmt.Fprintf(os.Stderr, "usage: cmrun [global flags] COMMAND [flags] [args]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-7s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\nglobal flags:\n%s", fs.FlagUsages())
}

// newFlags makes a command's flag set with a usage line.
func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: cmrun %s %s\n%s\n\n%s", name, commands[name].usage, commands[name].summary, fs.FlagUsages())
	}
	return fs
}

// parseArgs parses flags and checks the number of positional arguments.
func parseArgs(fs *pflag.FlagSet, args []string, min, max int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	rest := fs.Args()
	if len(rest) < min || len(rest) > max {
		if len(rest) < min {
			return nil, fmt.Errorf("%s: missing argument (usage: cmrun %s %s)", fs.Name(), fs.Name(), commands[fs.Name()].usage)
		}
		return nil, fmt.Errorf("%s: unexpected argument %q (usage: cmrun %s %s)", fs.Name(), strings.Join(rest[max:], " "), fs.Name(), commands[fs.Name()].usage)
	}
	return rest, nil
}
