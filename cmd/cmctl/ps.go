package main

import (
	"fmt"
	"io"
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
	var list []api.Container
	var err error
	if len(filters) > 0 {
		list, err = c.client.ListFiltered(c.ctx, filters, states...)
	} else {
		list, err = c.client.List(c.ctx, states...)
	}
	if err != nil {
		return err
	}
	switch {
	case tmpl != nil:
		return printTemplate(c.stdout, tmpl, list)
	case c.json || format == "json":
		return c.printJSON(list)
	case quiet:
		for _, ct := range list {
			fmt.Fprintln(c.stdout, ct.ID)
		}
		return nil
	}
	tw := newTable(c.stdout)
	tw.row("ID", "NAME", "STATE", "PID", "EXIT", "CREATED", "COMMAND")
	var reasons []string
	for _, ct := range list {
		exit := "-"
		if ct.State == manager.Dead {
			exit = fmt.Sprint(ct.ExitCode)
		}
		state := ct.State.String()
		if ct.Error != "" {
			// Why the manager gave up on it, or lost its record: a
			// footnote, as it does not fit a column.
			state += "*"
			reasons = append(reasons, fmt.Sprintf("* %s: %s", ct.ID, ct.Error))
		}
		tw.row(ct.ID, dash(ct.Name), state, dash(ct.Pid), exit, ago(ct.Created), dash(strings.Join(ct.Command, " ")))
	}
	if err := tw.flush(); err != nil {
		return err
	}
	for _, r := range reasons {
		fmt.Fprintln(c.stdout, r)
	}
	return nil
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table { return &table{tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)} }

func (t *table) row(cells ...any) {
	for i, cell := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, cell)
	}
	fmt.Fprintln(t.tw)
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
