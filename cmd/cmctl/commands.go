package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"cm/manager"
	"cm/manager/api"
)

// printJSON writes v as indented JSON.
func (c *cli) printJSON(v any) error { return printJSON(c.stdout, v) }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printContainer prints the id, or with --json the whole container.
func (c *cli) printContainer(ct api.Container) error {
	if c.json {
		return c.printJSON(ct)
	}
	fmt.Fprintln(c.stdout, ct.ID)
	return nil
}

func cmdCreate(c *cli, args []string) error {
	var req api.CreateRequest
	var memory string
	var detach bool
	var publish []string
	var labels []string
	fs := c.flags("create")
	fs.StringVar(&req.Name, "name", "", "a unique name")
	fs.StringVar(&req.Rootfs, "rootfs", "", "root filesystem directory (a default OCI config is written for it)")
	fs.StringVar(&req.Bundle, "bundle", "", "OCI bundle directory (its config.json is the base)")
	fs.StringVar(&memory, "memory", "", "memory limit in bytes (suffixes k, m, g)")
	fs.Int64Var(&req.Pids, "pids", 0, "pids limit")
	fs.BoolVar(&req.Init, "init", false, "run a tiny init as PID 1")
	fs.StringArrayVar(&req.Env, "env", nil, "KEY=VALUE for the program (repeatable)")
	fs.StringVar(&req.Cwd, "cwd", "", "working directory in the container")
	fs.StringSliceVar(&req.Namespaces, "namespaces", nil, "namespaces to create, replacing the default set")
	fs.BoolVarP(&detach, "detach", "d", false, "print the id at once, while the container is still CREATING")
	fs.StringVar(&req.Network, "network", "", "none (own namespace, loopback only), host (the host's) or bridge (an address on the daemon's bridge)")
	fs.StringArrayVarP(&publish, "publish", "p", nil, "HOSTPORT:CONTAINERPORT[/tcp|/udp]: publish a container port on the host (repeatable; --network bridge)")
	fs.StringVar(&req.Restart, "restart", "", "restart policy when it exits: no, on-failure[:N] (N restarts at most) or always")
	fs.StringArrayVarP(&labels, "label", "l", nil, "KEY=VALUE metadata (repeatable), for ps --filter label=KEY=VALUE")
	fs.Float64Var(&req.CPUs, "cpus", 0, "number of CPUs (CPU time per second: 1.5 is one and a half)")
	cmd, err := c.parse(fs, "create", args, 0, -1)
	if err != nil {
		return err
	}
	if req.Labels, err = parseLabels(labels); err != nil {
		return err
	}
	req.Args = cmd
	for _, p := range publish {
		pm, err := api.ParsePortMapping(p)
		if err != nil {
			return fmt.Errorf("--publish: %w", err)
		}
		req.Ports = append(req.Ports, pm)
	}
	if memory != "" {
		if req.Memory, err = parseBytes(memory); err != nil {
			return fmt.Errorf("--memory: %w", err)
		}
	}
	ct, err := c.client.Create(c.ctx, req)
	if err != nil {
		return err
	}
	if !detach {
		// Scripts go on with `cmctl start`, so answer once it can start.
		if ct, err = c.client.Wait(c.ctx, ct.ID, manager.Ready, manager.Dead, manager.Lost); err != nil {
			return err
		}
		if ct.State != manager.Ready {
			c.printContainer(ct)
			return fmt.Errorf("container %s is %s: %s", ct.ID, ct.State, ct.Error)
		}
	}
	return c.printContainer(ct)
}

// parseBytes reads 1048576, 1024k, 64m or 1g.
func parseBytes(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToLower(s[len(s)-1:]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q: want a number of bytes, with an optional k, m or g", s)
	}
	return n * mult, nil
}

func cmdStart(c *cli, args []string) error {
	got, err := c.parse(c.flags("start"), "start", args, 1, 1)
	if err != nil {
		return err
	}
	ct, err := c.client.Start(c.ctx, got[0])
	if err != nil {
		return err
	}
	return c.printContainer(ct)
}

func cmdStop(c *cli, args []string) error {
	var req api.StopRequest
	var seconds float64
	fs := c.flags("stop")
	fs.Float64VarP(&seconds, "time", "t", 10, "seconds before SIGKILL")
	fs.StringVar(&req.Signal, "signal", "", "the stop signal (default TERM)")
	got, err := c.parse(fs, "stop", args, 1, 1)
	if err != nil {
		return err
	}
	req.Timeout = &seconds
	ct, err := c.client.Stop(c.ctx, got[0], req)
	if err != nil {
		return err
	}
	if ct, err = c.client.Wait(c.ctx, ct.ID); err != nil {
		return err
	}
	return c.printContainer(ct)
}

func cmdKill(c *cli, args []string) error {
	got, err := c.parse(c.flags("kill"), "kill", args, 1, 2)
	if err != nil {
		return err
	}
	sig := "KILL"
	if len(got) == 2 {
		sig = got[1]
	}
	ct, err := c.client.Kill(c.ctx, got[0], sig)
	if err != nil {
		return err
	}
	return c.printContainer(ct)
}

func cmdRm(c *cli, args []string) error {
	var force bool
	fs := c.flags("rm")
	fs.BoolVarP(&force, "force", "f", false, "kill it first if it is alive")
	got, err := c.parse(fs, "rm", args, 1, 1)
	if err != nil {
		return err
	}
	ct, err := c.client.Delete(c.ctx, got[0], force)
	if err != nil {
		return err
	}
	return c.printContainer(ct)
}

func cmdInspect(c *cli, args []string) error {
	got, err := c.parse(c.flags("inspect"), "inspect", args, 1, 1)
	if err != nil {
		return err
	}
	ct, err := c.client.Get(c.ctx, got[0])
	if err != nil {
		return err
	}
	return c.printJSON(ct)
}

func cmdLogs(c *cli, args []string) error {
	var follow bool
	fs := c.flags("logs")
	fs.BoolVarP(&follow, "follow", "f", false, "keep printing until the container is DEAD")
	got, err := c.parse(fs, "logs", args, 1, 1)
	if err != nil {
		return err
	}
	logs, err := c.client.Logs(c.ctx, got[0], follow)
	if err != nil {
		return err
	}
	defer logs.Close()
	if _, err := io.Copy(c.stdout, logs); err != nil && c.ctx.Err() == nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}

// eventCurrent is the type of the lines cmctl events prints after a
// resync, one per container, from a fresh list: its current state, which
// the events that were missed would have led to. The daemon never sends it.
const eventCurrent = "current"

// cmdEvents follows the event stream. When the daemon goes away (a restart,
// a crash) it reconnects with --since the last event it printed, so the
// daemon answers with a resync if events were lost; after every resync it
// lists the containers and prints their current state, so a reader of its
// output never misses a change without seeing where it led.
func cmdEvents(c *cli, args []string) error {
	var since uint64
	fs := c.flags("events")
	fs.Uint64Var(&since, "since", 0, "replay the events after this sequence number (a seq from an earlier event or from cmctl info; numbers of an earlier daemon boot get a resync event)")
	if _, err := c.parse(fs, "events", args, 0, 0); err != nil {
		return err
	}
	if !fs.Changed("since") {
		info, err := c.client.Info(c.ctx)
		if err != nil {
			return err
		}
		since = info.LastEvent
	}
	stream, err := c.client.Events(c.ctx, &since)
	for {
		if err != nil {
			return err
		}
		err = c.followEvents(stream, &since)
		stream.Close()
		if c.ctx.Err() != nil {
			return nil
		}
		fmt.Fprintf(c.stderr, "cmctl: events: connection to cmanagerd lost (%v); reconnecting with --since %d\n", err, since)
		if err = c.client.WaitUp(c.ctx); err == nil {
			stream, err = c.client.Events(c.ctx, &since)
		}
		if c.ctx.Err() != nil {
			return nil
		}
	}
}

// followEvents prints events until the stream ends, keeping since at the
// last one printed, and relists after a resync.
func (c *cli) followEvents(stream *api.EventStream, since *uint64) error {
	for {
		ev, err := stream.Next()
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s\n", stream.Line())
		*since = ev.Seq
		if ev.Type != api.EventResync {
			continue
		}
		list, err := c.client.List(c.ctx)
		if err != nil {
			return fmt.Errorf("list containers after a resync: %w", err)
		}
		for _, ct := range list {
			cur := api.Event{Seq: ev.Seq, Time: ct.Changed, Type: eventCurrent, ID: ct.ID, Name: ct.Name, To: ct.State, Reason: ct.Error}
			if ct.State == manager.Dead {
				code := ct.ExitCode
				cur.ExitCode, cur.Signal, cur.OOMKilled = &code, ct.Signal, ct.OOMKilled
			}
			line, err := json.Marshal(cur)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "%s\n", line)
		}
	}
}

func cmdWait(c *cli, args []string) error {
	got, err := c.parse(c.flags("wait"), "wait", args, 1, 1)
	if err != nil {
		return err
	}
	ct, err := c.client.Wait(c.ctx, got[0])
	if err != nil {
		return err
	}
	if ct.State != manager.Dead {
		return fmt.Errorf("container %s is %s: its exit status is unknown", ct.ID, ct.State)
	}
	if ct.Error != "" {
		// DEAD because the manager gave up before the program ran: exit
		// code 0 would read as the program's success.
		return fmt.Errorf("container %s never ran: %s", ct.ID, ct.Error)
	}
	if c.json {
		c.printJSON(ct)
	} else {
		fmt.Fprintln(c.stdout, ct.ExitCode)
	}
	return exitCode(ct.ExitCode)
}

func cmdInfo(c *cli, args []string) error {
	if _, err := c.parse(c.flags("info"), "info", args, 0, 0); err != nil {
		return err
	}
	info, err := c.client.Info(c.ctx)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(info)
	}
	tw := newTable(c.stdout)
	tw.row("version", info.Version)
	tw.row("state dir", info.StateDir)
	tw.row("boot", info.Boot)
	tw.row("started", info.Started.Format("2006-01-02 15:04:05"))
	tw.row("containers", info.Containers)
	for _, s := range manager.States() {
		tw.row("  "+s.String(), info.States[s.String()])
	}
	tw.row("workers", fmt.Sprintf("%d (%d busy)", info.Workers, info.Busy))
	tw.row("queue", fmt.Sprintf("%d of %d", info.QueueDepth, info.QueueCapacity))
	tw.row("last event", info.LastEvent)
	return tw.flush()
}

func cmdStates(c *cli, args []string) error {
	var dot, mermaid bool
	fs := c.flags("states")
	fs.BoolVar(&dot, "dot", false, "Graphviz: cmctl states --dot | dot -Tsvg > states.svg")
	fs.BoolVar(&mermaid, "mermaid", false, "a Mermaid stateDiagram (docs/states.mmd)")
	if _, err := c.parse(fs, "states", args, 0, 0); err != nil {
		return err
	}
	switch {
	case dot && mermaid:
		return fmt.Errorf("give --dot or --mermaid, not both")
	case dot:
		_, err := io.WriteString(c.stdout, manager.Dot())
		return err
	case mermaid:
		_, err := io.WriteString(c.stdout, manager.Mermaid())
		return err
	}
	tw := newTable(c.stdout)
	tw.row("FROM", "TO", "BY", "WHEN")
	for _, t := range manager.Transitions() {
		tw.row(t.From, t.To, t.By, t.Label)
	}
	if err := tw.flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout)
	tw = newTable(c.stdout)
	tw.row("OPERATION", "ALLOWED IN", "EFFECT")
	for _, o := range manager.Operations() {
		in := "-"
		if len(o.In) > 0 {
			var names []string
			for _, s := range o.In {
				names = append(names, s.String())
			}
			in = strings.Join(names, ",")
		}
		tw.row(o.Op, in, o.Effect)
	}
	return tw.flush()
}
