package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/runtime"
)

func cmdPause(g *globals, args []string) error {
	rest, err := parseArgs(newFlags("pause"), args, 1, 1)
	if err != nil {
		return err
	}
	return runtime.Pause(g.root, rest[0])
}

func cmdResume(g *globals, args []string) error {
	rest, err := parseArgs(newFlags("resume"), args, 1, 1)
	if err != nil {
		return err
	}
	return runtime.Resume(g.root, rest[0])
}

func cmdUpdate(g *globals, args []string) error {
	fs := newFlags("update")
	file := fs.StringP("resources", "r", "", "JSON file with linux.resources, or - for stdin")
	rest, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("update: --resources is required (cmrun does not implement runc's per-limit flags)")
	}
	var in io.Reader = os.Stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("update: --resources: %w", err)
		}
		defer f.Close()
		in = f
	}
	return runtime.Update(g.root, rest[0], in, func(w string) { g.log.warnf("%s", w) })
}

// event is one line of "cmrun events", in runc's shape.
type event struct {
	Type string `json:"type"` // "stats" or "oom"
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

func cmdEvents(g *globals, args []string) error {
	fs := newFlags("events")
	stats := fs.Bool("stats", false, "print the container's statistics once and exit")
	interval := fs.Duration("interval", 5*time.Second, "how often to print statistics")
	rest, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	id := rest[0]
	if *interval <= 0 {
		return fmt.Errorf("events: --interval must be positive")
	}
	enc := json.NewEncoder(os.Stdout)
	if *stats {
		s, err := runtime.Stats(g.root, id)
		if err != nil {
			return err
		}
		return enc.Encode(event{Type: "stats", ID: id, Data: s})
	}
	// Stream: statistics every interval, and an "oom" event each time the
	// OOM kill count grows, until the container stops.
	var lastOOM uint64
	next := time.Now()
	for {
		s, err := runtime.Stats(g.root, id)
		if err != nil {
			c, lerr := runtime.Load(g.root, id)
			if lerr == nil && c.Status() == specs.StateStopped && c.OOMKilled() {
				return enc.Encode(event{Type: "oom", ID: id})
			}
			return err
		}
		if s.Memory.OOMKill > lastOOM {
			lastOOM = s.Memory.OOMKill
			if err := enc.Encode(event{Type: "oom", ID: id}); err != nil {
				return err
			}
		}
		if !time.Now().Before(next) {
			if err := enc.Encode(event{Type: "stats", ID: id, Data: s}); err != nil {
				return err
			}
			next = time.Now().Add(*interval)
		}
		time.Sleep(min(*interval, 200*time.Millisecond))
	}
}

func cmdPs(g *globals, args []string) error {
	fs := newFlags("ps")
	format := fs.StringP("format", "f", "table", "table or json")
	rest, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("ps: --format: unknown format %q (want table or json)", *format)
	}
	pids, err := runtime.Pids(g.root, rest[0])
	if err != nil {
		return err
	}
	if *format == "json" {
		if pids == nil {
			pids = []int{}
		}
		return printJSON(pids)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(w, "PID\tCMD")
	for _, pid := range pids {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		fmt.Fprintf(w, "%d\t%s\n", pid, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	return w.Flush()
}
