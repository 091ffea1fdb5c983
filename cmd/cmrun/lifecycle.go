package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/pflag"

	"cm/runtime"
	"cm/runtime/signals"
	rtspec "cm/runtime/spec"
)

// createFlags are shared by create and run.
type createFlags struct {
	bundle, pidFile, consoleSocket string
	noPivot, noNewKeyring, trace   bool
	preserveFDs                    int
}

// errCheckpoint is what checkpoint and restore answer: runc does them
// with CRIU, which cmrun does not drive.
var errCheckpoint = errors.New("not supported: cmrun has no CRIU integration; stop the container and run it again instead")

func cmdCheckpoint(g *globals, args []string) error {
	if err := checkpointFlags("checkpoint").Parse(args); err != nil {
		return err
	}
	return fmt.Errorf("checkpoint: %w", errCheckpoint)
}

func cmdRestore(g *globals, args []string) error {
	if err := checkpointFlags("restore").Parse(args); err != nil {
		return err
	}
	return fmt.Errorf("restore: %w", errCheckpoint)
}

// checkpointFlags accepts anything, so that whatever flags a caller passes
// it gets the one clear "not supported" line rather than a flag error.
func checkpointFlags(name string) *pflag.FlagSet {
	fs := newFlags(name)
	fs.ParseErrorsAllowlist.UnknownFlags = true
	return fs
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
		SpawnOptions: runtime.SpawnOptions{
			Root: g.root, ID: id, PidFile: f.pidFile, ConsoleSocket: f.consoleSocket,
			PreserveFDs: f.preserveFDs, Trace: runtime.NewTrace(f.trace || g.debug),
			Warn:  g.log.warnRuntime,
			Debug: func(msg string) { g.log.debugf("%s", msg) },
		},
		BundleDir: f.bundle, NoPivot: f.noPivot,
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
	g.finishTrace(o.Trace, f.trace)
	return err
}

func cmdRun(g *globals, args []string) error {
	var f createFlags
	fs := newFlags("run")
	f.register(fs)
	detach := fs.BoolP("detach", "d", false, "return once the container has started")
	keep := fs.Bool("keep", false, "do not delete the container after it exits")
	fs.Bool("no-subreaper", false, "accepted for compatibility: cmrun waits for its container's init as its parent")
	rest, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	o := runtime.RunOptions{CreateOptions: f.options(g, rest[0]), Detach: *detach, Keep: *keep}
	t := o.Trace
	if !forked.IsZero() {
		t.Span("cmrun", forked, mainStarted, "process start: fork, exec, Go runtime and package init (main thread's schedstat)")
		t.Span("cmrun", mainStarted, time.Now(), "parse the command line")
	}
	code, err := runtime.Run(o)
	g.finishTrace(t, f.trace)
	if f.trace {
		// What follows this line, the exit itself, no process can time.
		start := forked
		if start.IsZero() {
			start = mainStarted
		}
		fmt.Fprintf(os.Stderr, "trace total %.3fms (exit %d), from fork to this line\n", float64(time.Since(start).Microseconds())/1000, code)
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
		containerInfo
		OOMKilled bool `json:"oomKilled,omitempty"`
	}
	st := state{containerInfo: infoOf(c)}
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
	// Signal 0 probes whether the container is alive, as with kill(2).
	var sig syscall.Signal
	if sigName != "0" {
		if sig, err = signals.Parse(sigName); err != nil {
			return err
		}
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
	err = runtime.Delete(g.root, rest[0], *force)
	if *force && errors.Is(err, runtime.ErrNotExist) {
		return nil // as runc: forcing the removal of nothing succeeds
	}
	return err
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
	list := []containerInfo{}
	for _, c := range cs {
		list = append(list, infoOf(c))
	}
	switch {
	case *quiet:
		for _, e := range list {
			fmt.Println(e.ID)
		}
	case *format == "json":
		return json.NewEncoder(os.Stdout).Encode(list) // one line, as runc
	case *format == "table":
		// runc's column widths, so scripts that cut columns keep working.
		w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
		fmt.Fprintln(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER")
		for _, e := range list {
			fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", e.ID, e.Pid, e.Status, e.Bundle, e.Created.Format(time.RFC3339Nano), e.Owner)
		}
		return w.Flush()
	default:
		return fmt.Errorf("list: --format: unknown format %q (want table or json)", *format)
	}
	return nil
}

// containerInfo is a container as "list" and "state" show it: runc's
// fields, in runc's order.
type containerInfo struct {
	OCIVersion  string               `json:"ociVersion"`
	ID          string               `json:"id"`
	Pid         int                  `json:"pid"`
	Status      specs.ContainerState `json:"status"`
	Bundle      string               `json:"bundle"`
	Rootfs      string               `json:"rootfs"`
	Created     time.Time            `json:"created"`
	Annotations map[string]string    `json:"annotations,omitempty"`
	Owner       string               `json:"owner"`
}

func infoOf(c *runtime.Container) containerInfo {
	st := c.OCIState()
	return containerInfo{OCIVersion: st.Version, ID: st.ID, Pid: st.Pid, Status: st.Status, Bundle: st.Bundle,
		Rootfs: c.Rootfs, Created: c.Created, Annotations: st.Annotations, Owner: ownerOf(c.Dir())}
}

// ownerOf names the user who owns a state directory: who created the
// container (runc shows "#UID" for a uid without a name).
func ownerOf(dir string) string {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return ""
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username
	}
	return "#" + uid
}

func cmdSpec(g *globals, args []string) error {
	fs := newFlags("spec")
	bundle := fs.StringP("bundle", "b", ".", "directory to write config.json into")
	cm := fs.Bool("cm", false, "write cm's stricter default (cgroup namespace, seccomp profile, no ambient capabilities) instead of runc's")
	fs.Bool("rootless", false, "not supported: cmrun does not write rootless configurations")
	cmd, err := parseArgs(fs, args, 0, 1<<16)
	if err != nil {
		return err
	}
	path := filepath.Join(*bundle, rtspec.ConfigFile)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("spec: %s already exists; remove it first", path)
	}
	if fs.Changed("rootless") {
		return fmt.Errorf("spec: --rootless is not supported by cmrun")
	}
	spec := rtspec.RuncSpec()
	if *cm {
		spec = rtspec.DefaultSpec()
	}
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
