// Command cmctl is the client of cmanagerd. It prints readable tables by
// default and JSON with --json, and its exit codes are for scripts: 0 ok,
// 1 error (one line on stderr, "cmctl: ..."), and `wait` exits with the
// container's exit code. Package cm/manager/api does the talking.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"cm/manager/api"
)

// command is one cmctl subcommand.
type command struct {
	usage   string
	summary string
	run     func(c *cli, args []string) error
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"create":  {"[--name NAME] (--rootfs DIR | --bundle DIR) [--memory BYTES] [--pids N] [--cpus FLOAT] [--init] [--restart POLICY] [--label KEY=VALUE]... [--network none|host|bridge] [-p HOSTPORT:CONTAINERPORT]... -- CMD [ARG...]", "create a container; prints its id once it is READY", cmdCreate},
		"start":   {"ID", "start a READY container", cmdStart},
		"stop":    {"[--time SECONDS] [--signal SIG] ID", "stop signal, then SIGKILL after the grace period; waits until it is DEAD", cmdStop},
		"kill":    {"ID [SIGNAL]", "send a signal (default KILL): TERM, SIGTERM or 15", cmdKill},
		"rm":      {"[--force] ID", "forget a DEAD or LOST container (--force: any, killing it)", cmdRm},
		"ps":      {"[--state STATE] [--filter KEY=VALUE]... [--format json|TEMPLATE] [--quiet]", "list containers", cmdPs},
		"inspect": {"ID", "print a container as JSON", cmdInspect},
		"logs":    {"[--follow] ID", "print a container's output", cmdLogs},
		"events":  {"[--since SEQ]", "stream events as NDJSON", cmdEvents},
		"wait":    {"ID", "wait until a container is DEAD and exit with its exit code", cmdWait},
		"info":    {"", "describe the daemon", cmdInfo},
		"states":  {"[--dot | --mermaid]", "print the state machine", cmdStates},
		"stats":   {"[--no-stream] [--interval SECONDS] [ID...]", "display a live stream of containers' resource usage: CPU, memory, pids, network and block I/O", cmdStats},
		"exec":    {"[-i] [-t] [-e KEY=VALUE]... [-u UID[:GID]] [-w DIR] ID -- CMD [ARG...]", "run a process in a RUNNING container; exits with its exit code", cmdExec},
		"run":     {"[--rm] [-d] [CREATE FLAGS] -- CMD [ARG...]", "create, start and follow a container; exits with its exit code", cmdRun},
	}
}

// cli is what every command gets: the global flags and where to write.
type cli struct {
	socket         string
	json           bool
	stdout, stderr io.Writer
	ctx            context.Context
	client         *api.Client
}

// exitCode ends cmctl with a code and nothing on stderr (wait uses it).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit code %d", int(e)) }

func main() {
	// A short-lived client: decoding a list of thousands of containers
	// allocates a few megabytes, not worth several collections on the way.
	debug.SetGCPercent(400)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// globalFlags are accepted before and after the command name.
// A command's flag set registers them again with what the first parse
// found as defaults, so "cmctl --json ps" keeps its --json.
func (c *cli) globalFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("global", pflag.ContinueOnError)
	def := c.socket
	if def == "" {
		def = os.Getenv("CM_SOCKET")
	}
	if def == "" {
		def = "/run/cm/cm.sock"
	}
	fs.StringVar(&c.socket, "socket", def, "cmanagerd's client socket (or $CM_SOCKET)")
	fs.BoolVar(&c.json, "json", c.json, "print JSON")
	return fs
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr, ctx: ctx}
	globals := c.globalFlags()
	globals.SetInterspersed(false)
	globals.SetOutput(io.Discard)
	err := globals.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		usage(stdout)
		return 0
	}
	if err == nil && globals.NArg() == 0 {
		usage(stderr)
		return 1
	}
	if err == nil {
		err = c.dispatch(globals.Arg(0), globals.Args()[1:])
	}
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	case errors.Is(err, pflag.ErrHelp):
		return 0
	}
	fmt.Fprintln(stderr, "cmctl:", strings.ReplaceAll(err.Error(), "\n", " "))
	return 1
}

func (c *cli) dispatch(name string, args []string) error {
	cmd, ok := commands[name]
	if !ok {
		return fmt.Errorf("unknown command %q (try: cmctl --help)", name)
	}
	c.client = api.NewClient(c.socket)
	defer func() { c.client.Close() }()
	return cmd.run(c, args)
}

// flags makes a command's flag set, global flags included.
func (c *cli) flags(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("cmctl "+name, pflag.ContinueOnError)
	fs.AddFlagSet(c.globalFlags())
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "usage: cmctl %s %s\n", name, commands[name].usage)
		if d := descriptions[name]; d != "" {
			fmt.Fprintf(c.stderr, "\n%s\n", d)
		}
		fmt.Fprint(c.stderr, fs.FlagUsages())
	}
	fs.SetOutput(c.stderr)
	return fs
}

// parse parses a command's flags and checks it got between min and max
// arguments (max < 0: no limit).
func (c *cli) parse(fs *pflag.FlagSet, name string, args []string, min, max int) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	// --socket may have come after the command name.
	c.client.Close()
	c.client = api.NewClient(c.socket)
	got := fs.Args()
	if len(got) < min || (max >= 0 && len(got) > max) {
		return nil, fmt.Errorf("usage: cmctl %s %s", name, commands[name].usage)
	}
	return got, nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: cmctl [--socket PATH] [--json] COMMAND [ARGS]   (cmctl COMMAND --help for its flags)")
	var names []string
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-8s %s\n", name, commands[name].summary)
	}
}
