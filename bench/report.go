package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// WriteLatencyTable writes sums as a Markdown table, so the same text
// reads well in a terminal and pastes into the README.
func WriteLatencyTable(w io.Writer, sums []Summary) {
	fmt.Fprintln(w, "| config | contender | runs | p50 | p95 | p99 | max | max RSS (p50 of runs) |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range sums {
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s |\n",
			orDash(s.Config), s.Name, s.Runs, ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), mib(s.RSSP50KiB))
	}
}

// WriteTargets writes one line per target: the ratio and whether the
// target (and the stretch goal, if any) is met.
func WriteTargets(w io.Writer, sums []Summary, targets []Target) {
	for _, t := range targets {
		ratio, ok := t.Ratio(sums)
		label := fmt.Sprintf("%s: %s/%s %s", t.Config, t.Num, t.Den, t.Metric)
		switch {
		case !ok:
			fmt.Fprintf(w, "- %-36s n/a (missing contender)\n", label)
		case t.Max == 0:
			fmt.Fprintf(w, "- %-36s %6.2f\n", label, ratio)
		default:
			fmt.Fprintf(w, "- %-36s %6.2f  (target <= %.2f: %s", label, ratio, t.Max, Verdict(t.Met(ratio)))
			if t.Goal > 0 {
				fmt.Fprintf(w, "; goal <= %.2f: %s", t.Goal, Verdict(ratio <= t.Goal))
			}
			fmt.Fprintln(w, ")")
		}
	}
}

// WriteThroughputTable writes containers per second, one row per
// contender and one column per degree of parallelism.
func WriteThroughputTable(w io.Writer, tps []Throughput) {
	type row struct{ config, name string }
	var rows []row
	var pars []int
	byKey := map[string]Throughput{}
	for _, t := range tps {
		if r := (row{t.Config, t.Name}); !slices.Contains(rows, r) {
			rows = append(rows, r)
		}
		if !slices.Contains(pars, t.Parallel) {
			pars = append(pars, t.Parallel)
		}
		byKey[fmt.Sprint(t.Config, "/", t.Name, "/", t.Parallel)] = t
	}
	slices.Sort(pars)

	header, rule := []string{"config", "contender"}, []string{"---", "---"}
	for _, p := range pars {
		if p == 1 {
			header = append(header, "sequential")
		} else {
			header = append(header, fmt.Sprintf("%d in parallel", p))
		}
		rule = append(rule, "---:")
	}
	fmt.Fprintf(w, "| %s |\n| %s |\n", strings.Join(header, " | "), strings.Join(rule, " | "))
	for _, r := range rows {
		cells := []string{orDash(r.config), r.name}
		for _, p := range pars {
			t, ok := byKey[fmt.Sprint(r.config, "/", r.name, "/", p)]
			if !ok {
				cells = append(cells, "")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.1f/s", t.PerSecond()))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// orDash shows a contender without a config (the baseline) as "-".
func orDash(config string) string {
	if config == "" {
		return "-"
	}
	return config
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// mib formats KiB as MiB with one decimal.
func mib(kib int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}
