package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"cm/manager"
	"cm/manager/api"
)

// statsRow is one line of `cmctl stats`: the daemon's counters and the
// rates cmctl works out from two of them.
type statsRow struct {
	api.Stats
	// CPUPercent is CPU time over wall-clock time between two reads, in
	// percent of one CPU (so up to 100 × onlineCPUs), as podman shows it.
	CPUPercent float64 `json:"cpuPercent"`
	MemPercent float64 `json:"memPercent"`
}

func cmdStats(c *cli, args []string) error {
	var noStream bool
	var interval int
	fs := c.flags("stats")
	fs.BoolVar(&noStream, "no-stream", false, "print one table and exit (CPU % over one interval)")
	fs.IntVarP(&interval, "interval", "i", 1, "seconds between refreshes, and over which CPU % is measured")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Display a live stream of one or more containers' resource usage statistics\n\n"+
			"usage: cmctl stats %s\n\nWith no ID, every RUNNING container. Columns: ID NAME CPU %% MEM USAGE / LIMIT MEM %% NET IO BLOCK IO PIDS\n\n%s",
			commands["stats"].usage, fs.FlagUsages())
	}
	ids, err := c.parse(fs, "stats", args, 0, -1)
	if err != nil {
		return err
	}
	if interval < 1 {
		return fmt.Errorf("--interval: %d: want a number of seconds, at least 1", interval)
	}
	prev, err := c.sampleStats(ids)
	if err != nil {
		return err
	}
	clear := !noStream && !c.json && isTerminal(c.stdout)
	tick := time.NewTicker(time.Duration(interval) * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return nil // interrupted: the stream simply ends
		case <-tick.C:
		}
		cur, err := c.sampleStats(ids)
		if err != nil {
			return err
		}
		rows := statsRows(prev, cur)
		if clear {
			fmt.Fprint(c.stdout, "\033[H\033[2J") // home, then erase the screen, as podman does
		}
		if err := c.printStats(rows); err != nil {
			return err
		}
		if noStream {
			return nil
		}
		prev = cur
	}
}

// sampleStats reads the stats of the containers named, or of every
// RUNNING or STOPPING one when none is named. A named container that
// cannot be read is an error; one of the others that stopped meanwhile
// is left out.
func (c *cli) sampleStats(ids []string) ([]api.Stats, error) {
	named := len(ids) > 0
	if !named {
		list, err := c.client.List(c.ctx, manager.Running, manager.Stopping)
		if err != nil {
			return nil, err
		}
		for _, ct := range list {
			ids = append(ids, ct.ID)
		}
	}
	out := make([]api.Stats, 0, len(ids))
	for _, id := range ids {
		st, err := c.client.Stats(c.ctx, id)
		if err != nil {
			if named || errors.Is(err, c.ctx.Err()) {
				return nil, err
			}
			continue
		}
		out = append(out, st)
	}
	return out, nil
}

// statsRows works out the rates of cur since prev; a container missing
// from prev (it just started) gets a CPU % of 0.
func statsRows(prev, cur []api.Stats) []statsRow {
	before := map[string]api.Stats{}
	for _, s := range prev {
		before[s.ID] = s
	}
	rows := make([]statsRow, 0, len(cur))
	for _, s := range cur {
		r := statsRow{Stats: s}
		if p, ok := before[s.ID]; ok && s.Read.After(p.Read) && s.CPU.UsageNanos >= p.CPU.UsageNanos {
			r.CPUPercent = float64(s.CPU.UsageNanos-p.CPU.UsageNanos) / float64(s.Read.Sub(p.Read).Nanoseconds()) * 100
		}
		if s.Memory.Limit > 0 {
			r.MemPercent = float64(s.Memory.Usage) / float64(s.Memory.Limit) * 100
		}
		rows = append(rows, r)
	}
	return rows
}

func (c *cli) printStats(rows []statsRow) error {
	if c.json {
		return c.printJSON(rows)
	}
	tw := newTable(c.stdout)
	tw.row("ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET IO", "BLOCK IO", "PIDS")
	for _, r := range rows {
		net := "-- / --"
		if r.Net != nil {
			net = humanSize(r.Net.RxBytes) + " / " + humanSize(r.Net.TxBytes)
		}
		tw.row(r.ID, dash(r.Name), fmt.Sprintf("%.2f%%", r.CPUPercent),
			humanSize(r.Memory.Usage)+" / "+humanSize(r.Memory.Limit), fmt.Sprintf("%.2f%%", r.MemPercent),
			net, humanSize(r.BlockIO.ReadBytes)+" / "+humanSize(r.BlockIO.WriteBytes), r.Pids.Current)
	}
	return tw.flush()
}

// humanSize writes bytes in decimal units with four significant digits,
// the way podman and docker print sizes: 0B, 512B, 20.97MB, 8.214GB.
func humanSize(n uint64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	v := float64(n)
	i := 0
	for v >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	return fmt.Sprintf("%.4g%s", v, units[i])
}

// isTerminal reports whether w is a terminal, where a streamed table
// redraws the screen instead of scrolling.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
