package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/nsexec"
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
	limits := registerLimitFlags(fs)
	rest, err := parseArgs(fs, args, 1, 1)
	if err != nil {
		return err
	}
	changed := limits.changed(fs)
	if *file != "" && changed {
		return fmt.Errorf("update: give either --resources or limit flags, not both")
	}
	var in io.Reader = os.Stdin
	switch {
	case changed:
		r, err := limits.resources(fs)
		if err != nil {
			return err
		}
		data, err := json.Marshal(r)
		if err != nil {
			return err
		}
		in = bytes.NewReader(data)
	case *file == "":
		return fmt.Errorf("update: nothing to change: give --resources FILE or a limit flag such as --memory")
	case *file != "-":
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
	fs.SetInterspersed(false) // what follows the id is for ps(1)
	format := fs.StringP("format", "f", "table", "table or json")
	rest, err := parseArgs(fs, args, 1, 1<<16)
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
		if len(rest) > 1 {
			return fmt.Errorf("ps: ps options %q cannot be combined with --format json", strings.Join(rest[1:], " "))
		}
		if pids == nil {
			pids = []int{}
		}
		return json.NewEncoder(os.Stdout).Encode(pids) // one line, as runc
	}
	psArgs := rest[1:]
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	return psTable(pids, psArgs, os.Stdout)
}

// psTable runs the host's ps(1) with psArgs and keeps its header and the
// lines of the container's processes: it finds them by the PID column.
func psTable(pids []int, psArgs []string, w io.Writer) error {
	cmd := exec.Command("ps", psArgs...)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := nsexec.ForkWithHostScheduling(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		return fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	in := make(map[int]bool, len(pids))
	for _, pid := range pids {
		in[pid] = true
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() {
		return fmt.Errorf("ps %s: printed nothing", strings.Join(psArgs, " "))
	}
	header := sc.Text()
	col := -1
	for i, f := range strings.Fields(header) {
		if f == "PID" {
			col = i
		}
	}
	if col < 0 {
		return fmt.Errorf("ps %s: no PID column in its output (keep pid among the columns)", strings.Join(psArgs, " "))
	}
	fmt.Fprintln(w, header)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) <= col {
			continue
		}
		if pid, err := strconv.Atoi(f[col]); err == nil && in[pid] {
			fmt.Fprintln(w, sc.Text())
		}
	}
	return sc.Err()
}
