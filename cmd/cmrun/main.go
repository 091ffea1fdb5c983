// Command cmrun is cm's OCI runtime: it creates and runs containers from
// OCI bundles (config.json + root filesystem) with runc's command line,
// so tools that drive runc can drive cmrun.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	libseccomp "github.com/seccomp/libseccomp-golang"
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
	criu          string
	rootless      string
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
		"create":     {"[flags] ID", "create a container from a bundle; it waits for start", cmdCreate},
		"start":      {"ID", "run the user's program in a created container", cmdStart},
		"run":        {"[flags] ID", "create, start and wait for a container; exits with its code", cmdRun},
		"exec":       {"[flags] ID [COMMAND [ARG...]]", "run another process in a created or running container", cmdExec},
		"state":      {"ID", "print the OCI state of a container as JSON", cmdState},
		"kill":       {"[--all] ID [SIGNAL]", "send a signal (default SIGTERM) to a container", cmdKill},
		"delete":     {"[--force] ID", "remove a stopped container (--force: any container)", cmdDelete},
		"list":       {"[--format table|json] [--quiet]", "list containers", cmdList},
		"pause":      {"ID", "freeze every process of a container", cmdPause},
		"resume":     {"ID", "thaw a paused container", cmdResume},
		"update":     {"[flags] ID", "change a container's cgroup limits (flags, or linux.resources JSON with -r)", cmdUpdate},
		"events":     {"[--stats] [--interval D] ID", "print statistics and OOM events as JSON lines", cmdEvents},
		"ps":         {"[--format table|json] ID [PS OPTIONS]", "list the processes in a container (ps -ef columns by default)", cmdPs},
		"features":   {"", "print what this runtime supports (runtime-spec features.json)", cmdFeatures},
		"spec":       {"[--bundle DIR] [--cm] [-- CMD [ARG...]]", "write runc's default config.json (--cm: cm's stricter one; CMD: run it without a terminal)", cmdSpec},
		"checkpoint": {"[flags] ID", "not supported: cmrun has no CRIU integration", cmdCheckpoint},
		"restore":    {"[flags] ID", "not supported: cmrun has no CRIU integration", cmdRestore},
		"version":    {"", "print the version (as --version)", cmdVersion},
		"help":       {"[COMMAND]", "show the commands, or one command's flags", nil},
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.Init() // only returns by exiting
	}
	mainStarted = time.Now()
	if traceAsked(os.Args[1:]) {
		// Now, before main's own work adds to the main thread's time.
		forked, _ = runtime.ProcessStart(mainStarted)
	}
	os.Exit(cmrun(os.Args[1:]))
}

// mainStarted is when main began; forked, only with --trace or --debug,
// is when this process was forked, for the trace's first step.
var mainStarted, forked time.Time

// traceAsked reports whether --trace or --debug is among the arguments,
// before the flags are parsed: the process start is measured first thing.
func traceAsked(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--trace" || a == "--debug" || strings.HasPrefix(a, "--trace=") || strings.HasPrefix(a, "--debug=") {
			return true
		}
	}
	return false
}

// exitUnknownCommand is runc's exit code for a command or help topic it does not know.
const exitUnknownCommand = 3

func cmrun(argv []string) int {
	g := &globals{}
	fs := pflag.NewFlagSet("cmrun", pflag.ContinueOnError)
	fs.SetInterspersed(false) // global flags end at the command name
	fs.StringVar(&g.root, "root", runtime.DefaultRoot, "directory for container state")
	fs.StringVar(&g.logPath, "log", "", "also write log messages to this file")
	fs.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&g.debug, "debug", false, "log debug messages")
	fs.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "refused by create and run: cmrun manages cgroupfs itself (no systemd cgroup driver)")
	fs.StringVar(&g.criu, "criu", "criu", "accepted for compatibility; cmrun does not checkpoint")
	fs.StringVar(&g.rootless, "rootless", "auto", "accepted for compatibility: true, false or auto")
	showVersion := fs.BoolP("version", "v", false, "print the version")
	globalFlags = fs
	fs.Usage = func() { usage(os.Stdout) }
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
		printVersion()
		return 0
	}
	switch g.rootless {
	case "true", "false", "auto":
	default:
		return g.log.fail(fmt.Errorf("--rootless: %q is not true, false or auto", g.rootless))
	}
	if fs.NArg() == 0 {
		// As runc: no command shows the help, and that is not an error.
		usage(os.Stdout)
		return 0
	}
	name, args := fs.Arg(0), fs.Args()[1:]
	if name == "help" || name == "h" {
		return help(g, args)
	}
	// A container made in cgroupfs where the engine and the kubelet expect
	// a systemd scope would escape their accounting: refuse, once, where
	// cgroups are made; the other commands only use the recorded path.
	if g.systemdCgroup && (name == "create" || name == "run") {
		return g.log.fail(errors.New("--systemd-cgroup: the systemd cgroup driver is not supported: cmrun manages cgroupfs itself; configure the engine for cgroupfs (containerd SystemdCgroup = false, CRI-O cgroup_manager = \"cgroupfs\", kubelet cgroupDriver: cgroupfs)"))
	}
	cmd, ok := commands[name]
	if !ok {
		g.log.fail(fmt.Errorf("unknown command %q (see cmrun --help)", name))
		return exitUnknownCommand
	}
	if err := cmd.run(g, args); err != nil {
		var exit exitStatus
		if errors.As(err, &exit) {
			return int(exit)
		}
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		code := g.log.fail(err)
		if name == "exec" {
			code = exitExecFailed
		}
		return code
	}
	return 0
}

// exitExecFailed is runc's exit code for an exec that could not start the
// process (a process that ran exits with its own code instead).
const exitExecFailed = 255

// help is "cmrun help [COMMAND]": the commands, or one command's flags.
func help(g *globals, args []string) int {
	if len(args) == 0 {
		usage(os.Stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok || cmd.run == nil {
		if args[0] == "help" || args[0] == "h" {
			usage(os.Stdout)
			return 0
		}
		g.log.fail(fmt.Errorf("help: unknown command %q (see cmrun help)", args[0]))
		return exitUnknownCommand
	}
	// Each command prints its own help when asked with --help.
	if err := cmd.run(g, []string{"--help"}); err != nil && !errors.Is(err, pflag.ErrHelp) {
		return g.log.fail(err)
	}
	return 0
}

func cmdVersion(g *globals, args []string) error {
	if _, err := parseArgs(newFlags("version"), args, 0, 0); err != nil {
		return err
	}
	printVersion()
	return nil
}

// printVersion prints runc's five lines (tools parse the first three).
func printVersion() {
	fmt.Print(versionText())
}

func versionText() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("cmrun version %s\ncommit: %s\nspec: %s\ngo: %s\nlibseccomp: %d.%d.%d\n",
		version, commit, specVersion(), goruntime.Version(), major, minor, micro)
}

// exitStatus is returned by "run" to exit with the container's code.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// globalFlags is cmrun's own flag set, for the help text.
var globalFlags *pflag.FlagSet

// usage prints the main help in runc's layout: NAME, USAGE, VERSION,
// COMMANDS, GLOBAL OPTIONS.
func usage(w io.Writer) {
	fmt.Fprintf(w, "NAME:\n   cmrun - cm's OCI runtime, with runc's command line\n\n")
	fmt.Fprintf(w, "USAGE:\n   cmrun [global options] command [command options] [arguments...]\n\n")
	fmt.Fprintf(w, "VERSION:\n   %s\n", strings.TrimPrefix(versionText(), "cmrun version "))
	fmt.Fprintf(w, "COMMANDS:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		label := n
		if n == "help" {
			label = "help, h"
		}
		fmt.Fprintf(w, "   %-11s %s\n", label, commands[n].summary)
	}
	fmt.Fprintf(w, "\nGLOBAL OPTIONS:\n%s", indent(globalFlags.FlagUsages()))
	fmt.Fprintf(w, "   --help, -h           show help\n")
}

// indent puts pflag's two-space flag lines at runc's three.
func indent(s string) string {
	return strings.ReplaceAll("\n"+s, "\n  ", "\n   ")[1:]
}

// newFlags makes a command's flag set with a usage line.
func newFlags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	// Help goes to stdout, in runc's layout: NAME, USAGE, OPTIONS.
	fs.Usage = func() {
		fmt.Printf("NAME:\n   cmrun %s - %s\n\nUSAGE:\n   cmrun %s %s\n", name, commands[name].summary, name, commands[name].usage)
		if fs.HasFlags() {
			fmt.Printf("\nOPTIONS:\n%s", indent(fs.FlagUsages()))
		}
		fmt.Printf("   --help, -h  show help\n")
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
