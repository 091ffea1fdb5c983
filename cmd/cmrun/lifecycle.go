package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"

	"cm/runtime"
)

// createFlags are shared by create and run.
type createFlags struct {
	bundle, pidFile, consoleSocket string
	noPivot, noNewKeyring, trace   bool
	preserveFDs                    int
}

func (f *createFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.bundle, "bundle", "b", ".", "path to the bundle directory")
	fs.StringVar(&f.pidFile, "pid-file", "", "write the container init's pid to this file")
	fs.StringVar(&f.consoleSocket, "console-socket", "", "AF_UNIX socket that receives the pty master (process.terminal)")
	fs.BoolVar(&f.noPivot, "no-pivot", false, "use chroot instead of pivot_root (for ramfs roots)")
	fs.BoolVar(&f.noNewKeyring, "no-new-keyring", false, "accepted for compatibility: cmrun never creates a session keyring")
	fs.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass N extra file descriptors (from fd 3) to the container")
	fs.BoolVar(&f.trace, "trace", false, "print each setup step with its duration to stderr")
}

func (f *createFlags) options(g *globals, id string) runtime.CreateOptions {
	return runtime.CreateOptions{
		Root: g.root, ID: id, BundleDir: f.bundle, PidFile: f.pidFile, ConsoleSocket: f.consoleSocket,
		NoPivot: f.noPivot, PreserveFDs: f.preserveFDs, Trace: runtime.NewTrace(f.trace),
		Warn:  func(msg string) { g.log.warnf("%s", msg) },
		Debug: func(msg string) { g.log.debugf("%s", msg) },
	}
}

func cmdCreate(g *globals, args []string) error {
	var f createFlags
	fs := newFlags("create")
	f.register(fs)
	rest, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	o := f.options(g, rest[0])
	_, err = runtime.Create(o)
	o.Trace.Print(os.Stderr)
	return err
}

func cmdRun(g *globals, args []string) error {
	var f createFlags
	fs := newFlags("run")
	f.register(fs)
	detach := fs.BoolP("detach", "d", false, "return once the container has started")
	rest, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	o := runtime.RunOptions{CreateOptions: f.options(g, rest[0]), Detach: *detach}
	start := time.Now()
	code, err := runtime.Run(o)
	if o.Trace.On() {
		o.Trace.Print(os.Stderr)
		fmt.Fprintf(os.Stderr, "trace total %.3fms (exit %d)\n", float64(time.Since(start).Microseconds())/1000, code)
	}
	if err != nil {
		return err
	}
	return exitStatus(code)
}

func cmdStart(g *globals, args []string) error {
	rest, err := parseArgs(newFlags("start"), args, 1, 1)
	if err != nil {
		return err
	}
	_, err = runtime.Start(g.root, rest[0])
	return err
}

func cmdState(g *globals, args []string) error {
	rest, err := parseArgs(newFlags("state"), args, 1, 1)
	if err != nil {
		return err
	}
	c, err := runtime.Load(g.root, rest[0])
	if err != nil {
		return err
	}
	// The OCI state, plus whether the OOM killer struck: runtimes may add
	// fields, and a stopped container's users want to know why it stopped.
	type state struct {
		specs.State
		OOMKilled bool `json:"oomKilled,omitempty"`
	}
	st := state{State: c.OCIState()}
	if st.Status == specs.StateStopped {
		st.OOMKilled = c.OOMKilled()
	}
	return printJSON(st)
}

func cmdKill(g *globals, args []string) error {
	fs := newFlags("kill")
	all := fs.BoolP("all", "a", false, "signal every process in the container's cgroup")
	rest, err := parseArgs(fs, args, 1, 2)
	if err != nil {
		return err
	}
	sigName := "SIGTERM"
	if len(rest) == 2 {
		sigName = rest[1]
	}
	sig, err := runtime.ParseSignal(sigName)
	if err != nil {
		return err
	}
	return runtime.Kill(g.root, rest[0], sig, *all)
}

func cmdDelete(g *globals, args []string) error {
	fs := newFlags("delete")
	force := fs.BoolP("force", "f", false, "kill the container first if it is not stopped")
	rest, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	return runtime.Delete(g.root, rest[0], *force)
}

func cmdList(g *globals, args []string) error {
	fs := newFlags("list")
	format := fs.StringP("format", "f", "table", "table or json")
	quiet := fs.BoolP("quiet", "q", false, "print only the ids")
	if _, err := parseArgs(fs, args, 0, 0); err != nil {
		return err
	}
	cs, err := runtime.List(g.root)
	if err != nil {
		return err
	}
	type entry struct {
		specs.State
		Created time.Time `json:"created"`
	}
	var list []entry
	for _, c := range cs {
		list = append(list, entry{State: c.OCIState(), Created: c.Created})
	}
	switch {
	case *quiet:
		for _, e := range list {
			fmt.Println(e.ID)
		}
	case *format == "json":
		if list == nil {
			list = []entry{}
		}
		return printJSON(list)
	case *format == "table":
		w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED")
		for _, e := range list {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\n", e.ID, e.Pid, e.Status, e.Bundle, e.Created.Format(time.RFC3339))
		}
		return w.Flush()
	default:
		return fmt.Errorf("list: --format: unknown format %q (want table or json)", *format)
	}
	return nil
}

func cmdSpec(g *globals, args []string) error {
	fs := newFlags("spec")
	bundle := fs.StringP("bundle", "b", ".", "directory to write config.json into")
	cmd, err := parseArgs(fs, args, 0, 1<<16)
	if err != nil {
		return err
	}
	path := filepath.Join(*bundle, runtime.ConfigFile)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("spec: %s already exists; remove it first", path)
	}
	spec := runtime.DefaultSpec()
	if len(cmd) > 0 {
		// A command makes a bundle for scripts: it runs that, without a terminal.
		spec.Process.Args = cmd
		spec.Process.Terminal = false
	}
	data, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func cmdFeatures(g *globals, args []string) error {
	if _, err := parseArgs(newFlags("features"), args, 0, 0); err != nil {
		return err
	}
	return printJSON(runtime.Features())
}

func printJSON(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(data, '\n'))
	return err
}

func specVersion() string { return specs.Version }
