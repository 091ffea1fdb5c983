package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"cm/manager"
	"cm/manager/api"
)

func cmdPs(c *cli, args []string) error {
	var state, format string
	var quiet bool
	var filters []string
	fs := c.flags("ps")
	fs.StringVar(&state, "state", "", "only containers in this state (or STATE,STATE)")
	fs.BoolVarP(&quiet, "quiet", "q", false, "print ids only")
	fs.StringArrayVarP(&filters, "filter", "f", nil, "only containers that match, all filters together (repeatable): state=STATE, label=KEY[=VALUE], name=NAME, id=PREFIX")
	fs.StringVar(&format, "format", "", "json, or a Go template per container: '{{.ID}} {{.State}} {{index .Labels \"app\"}}'")
	if _, err := c.parse(fs, "ps", args, 0, 0); err != nil {
		return err
	}
	var states []manager.State
	if state != "" {
		for _, name := range strings.Split(state, ",") {
			s, err := manager.ParseState(name)
			if err != nil {
				return fmt.Errorf("--state: %w", err)
			}
			states = append(states, s)
		}
	}
	var tmpl *template.Template
	if format != "" && format != "json" {
		var err error
		if tmpl, err = template.New("format").Parse(format); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
	}
	// Thousands of lines: one write per buffer, not one per cell.
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	var err error
	if tmpl != nil || c.json || format == "json" {
		var list []api.Container
		if err = c.client.ListInto(c.ctx, &list, filters, states...); err == nil {
			if tmpl != nil {
				err = printTemplate(out, tmpl, list)
			} else {
				err = printJSON(out, list)
			}
		}
	} else {
		var rows []psRow
		if err = c.client.ListInto(c.ctx, &rows, filters, states...); err == nil {
			err = printTable(out, rows, quiet)
		}
	}
	if err != nil {
		return err
	}
	return out.Flush()
}

// psRow is what the table shows of a container: the list decoded into
// these fields alone takes markedly less time at thousands of containers
// than into whole api.Containers.
type psRow struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	State    manager.State `json:"state"`
	Pid      int           `json:"pid"`
	ExitCode int           `json:"exitCode"`
	Error    string        `json:"error"`
	Created  time.Time     `json:"created"`
	Command  []string      `json:"command"`
}

func printTable(out io.Writer, rows []psRow, quiet bool) error {
	if quiet {
		for _, ct := range rows {
			fmt.Fprintln(out, ct.ID)
		}
		return nil
	}
	tw := newTable(out)
	tw.row("ID", "NAME", "STATE", "PID", "EXIT", "CREATED", "COMMAND")
	var reasons []string
	for _, ct := range rows {
		exit := "-"
		if ct.State == manager.Dead {
			exit = strconv.Itoa(ct.ExitCode)
		}
		state := ct.State.String()
		if ct.Error != "" {
			// Why the manager gave up on it, or lost its record: a
			// footnote, as it does not fit a column.
			state += "*"
			reasons = append(reasons, fmt.Sprintf("* %s: %s", ct.ID, ct.Error))
		}
		pid := "-"
		if ct.Pid != 0 {
			pid = strconv.Itoa(ct.Pid)
		}
		tw.row(ct.ID, dash(ct.Name), state, pid, exit, ago(ct.Created), dash(strings.Join(ct.Command, " ")))
	}
	if err := tw.flush(); err != nil {
		return err
	}
	for _, r := range reasons {
		fmt.Fprintln(out, r)
	}
	return nil
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table { return &table{tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)} }

// row writes one line in one Write: tabwriter does its work per call.
func (t *table) row(cells ...any) {
	var line []byte
	for i, cell := range cells {
		if i > 0 {
			line = append(line, '\t')
		}
		if s, ok := cell.(string); ok {
			line = append(line, s...)
		} else {
			line = fmt.Append(line, cell)
		}
	}
	t.tw.Write(append(line, '\n'))
}

func (t *table) flush() error { return t.tw.Flush() }

func dash(v any) string {
	s := fmt.Sprint(v)
	if s == "" || s == "0" {
		return "-"
	}
	return s
}

// ago says how long ago t was, roughly, as people read it in a table.
func ago(t time.Time) string {
	d := time.Since(t).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return t.Format("2006-01-02")
}

// printTemplate prints each container through a Go template, one line each.
func printTemplate(w io.Writer, tmpl *template.Template, list []api.Container) error {
	for _, ct := range list {
		var b strings.Builder
		if err := tmpl.Execute(&b, ct); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), "\n"))
	}
	return nil
}
