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
	fmt.Fprintln(w, "| contender | runs | p50 | p95 | p99 | max | max RSS (p50 of runs) |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range sums {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s |\n",
			s.Name, s.Runs, ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), mib(s.RSSP50KiB))
	}
}

// WriteTargets writes one line per target: the ratio and whether the goal is met.
func WriteTargets(w io.Writer, sums []Summary, targets []Target) {
	for _, t := range targets {
		ratio, ok := t.Ratio(sums)
		label := fmt.Sprintf("%s/%s %s", t.Num, t.Den, t.Metric)
		switch {
		case !ok:
			fmt.Fprintf(w, "- %-26s n/a (missing contender)\n", label)
		case t.Max == 0:
			fmt.Fprintf(w, "- %-26s %6.2f\n", label, ratio)
		default:
			verdict := "met"
			if !t.Met(ratio) {
				verdict = "NOT met"
			}
			fmt.Fprintf(w, "- %-26s %6.2f  (target <= %.2f: %s)\n", label, ratio, t.Max, verdict)
		}
	}
}

// WriteThroughputTable writes containers per second, one row per
// contender and one column per degree of parallelism.
func WriteThroughputTable(w io.Writer, tps []Throughput) {
	var names []string
	var pars []int
	byKey := map[string]Throughput{}
	for _, t := range tps {
		if !slices.Contains(names, t.Name) {
			names = append(names, t.Name)
		}
		if !slices.Contains(pars, t.Parallel) {
			pars = append(pars, t.Parallel)
		}
		byKey[fmt.Sprint(t.Name, "/", t.Parallel)] = t
	}
	slices.Sort(pars)

	header, rule := []string{"contender"}, []string{"---"}
	for _, p := range pars {
		if p == 1 {
			header = append(header, "sequential")
		} else {
			header = append(header, fmt.Sprintf("%d in parallel", p))
		}
		rule = append(rule, "---:")
	}
	fmt.Fprintf(w, "| %s |\n| %s |\n", strings.Join(header, " | "), strings.Join(rule, " | "))
	for _, n := range names {
		row := []string{n}
		for _, p := range pars {
			t, ok := byKey[fmt.Sprint(n, "/", p)]
			if !ok {
				row = append(row, "")
				continue
			}
			row = append(row, fmt.Sprintf("%.1f/s", t.PerSecond()))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
	}
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// mib formats KiB as MiB with one decimal.
func mib(kib int64) string {
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}
