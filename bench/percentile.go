package bench

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of sorted, which
// must be in ascending order, by the nearest-rank method: the smallest
// value that at least p% of the values are less than or equal to. It
// always returns a value that was measured, never an interpolation, and
// the zero value for an empty slice.
func Percentile[T cmp.Ordered](sorted []T, p float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// Summary condenses one contender's samples in one config.
type Summary struct {
	Name                    string
	Config                  string
	Runs                    int
	Min, P50, P95, P99, Max time.Duration
	// RSSP50KiB is the median over runs of each run's ru_maxrss: the
	// typical peak. RSSMaxKiB is the largest peak of any run.
	RSSP50KiB, RSSMaxKiB int64
}

// Summarize returns one Summary per contender and config, in the order
// each first appears in samples.
func Summarize(samples []Sample) []Summary {
	type key struct{ config, name string }
	var order []key
	walls := map[key][]time.Duration{}
	rss := map[key][]int64{}
	for _, s := range samples {
		k := key{s.Config, s.Name}
		if _, seen := walls[k]; !seen {
			order = append(order, k)
		}
		walls[k] = append(walls[k], s.Wall)
		rss[k] = append(rss[k], s.MaxRSSKiB)
	}
	sums := make([]Summary, 0, len(order))
	for _, k := range order {
		w, r := walls[k], rss[k]
		slices.Sort(w)
		slices.Sort(r)
		sums = append(sums, Summary{
			Name: k.name, Config: k.config, Runs: len(w),
			Min: w[0], P50: Percentile(w, 50), P95: Percentile(w, 95), P99: Percentile(w, 99), Max: w[len(w)-1],
			RSSP50KiB: Percentile(r, 50), RSSMaxKiB: r[len(r)-1],
		})
	}
	return sums
}

// find returns the summary of name in config.
func find(sums []Summary, config, name string) (Summary, bool) {
	for _, s := range sums {
		if s.Config == config && s.Name == name {
			return s, true
		}
	}
	return Summary{}, false
}
