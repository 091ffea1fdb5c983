package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	oneToTen := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	tests := []struct {
		name   string
		sorted []int
		p      float64
		want   int
	}{
		{"empty gives zero", nil, 50, 0},
		{"single value", []int{7}, 95, 7},
		{"median of ten is the 5th", oneToTen, 50, 5},
		{"p95 of ten is the 10th", oneToTen, 95, 10},
		{"p90 of ten is the 9th", oneToTen, 90, 9},
		{"p10 of ten is the 1st", oneToTen, 10, 1},
		{"p100 is the max", oneToTen, 100, 10},
		{"tiny p is the min", oneToTen, 0.001, 1},
		{"median of odd count is the middle", []int{1, 2, 3, 4, 5}, 50, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Percentile(tt.sorted, tt.p))
		})
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	var samples []Sample
	// Interleaved like the real loop: a, b, a, b, ...; b is 10x slower.
	for i := 1; i <= 20; i++ {
		samples = append(samples,
			Sample{Name: "a", Round: i - 1, Wall: time.Duration(i) * ms, MaxRSSKiB: int64(1000 + i)},
			Sample{Name: "b", Config: "x", Round: i - 1, Wall: time.Duration(10*i) * ms, MaxRSSKiB: 5000},
			Sample{Name: "a", Config: "x", Round: i - 1, Wall: 7 * ms, MaxRSSKiB: 7})
	}
	sums := Summarize(samples)
	require.Len(t, sums, 3, "one summary per contender and config")
	tests := []struct {
		got, want Summary
	}{
		{sums[0], Summary{Name: "a", Runs: 20, Min: 1 * ms, P50: 10 * ms, P95: 19 * ms, P99: 20 * ms, Max: 20 * ms, RSSP50KiB: 1010, RSSMaxKiB: 1020}},
		{sums[2], Summary{Name: "a", Config: "x", Runs: 20, Min: 7 * ms, P50: 7 * ms, P95: 7 * ms, P99: 7 * ms, Max: 7 * ms, RSSP50KiB: 7, RSSMaxKiB: 7}},
		{sums[1], Summary{Name: "b", Config: "x", Runs: 20, Min: 10 * ms, P50: 100 * ms, P95: 190 * ms, P99: 200 * ms, Max: 200 * ms, RSSP50KiB: 5000, RSSMaxKiB: 5000}},
	}
	for _, tt := range tests {
		t.Run(tt.want.Name+tt.want.Config, func(t *testing.T) {
			require.Equal(t, tt.want, tt.got)
		})
	}
}

func TestTargets(t *testing.T) {
	sums := []Summary{
		{Name: "cmrun", Config: "c", P50: 10 * time.Millisecond, RSSP50KiB: 3000},
		{Name: "crun", Config: "c", P50: 16 * time.Millisecond, RSSP50KiB: 2000},
		{Name: "runc", Config: "c", P50: 30 * time.Millisecond, RSSP50KiB: 12000},
		{Name: "crun", Config: "other", P50: 1 * time.Millisecond, RSSP50KiB: 1},
		{Name: "shared", P50: 5 * time.Millisecond, RSSP50KiB: 1000},
	}
	tests := []struct {
		name      string
		target    Target
		wantRatio float64
		wantOK    bool
		wantMet   bool
	}{
		{"p50 under crun's", Target{Config: "c", Metric: MetricP50, Num: "cmrun", Den: "crun", Max: 0.8}, 0.625, true, true},
		{"p50 not a quarter of runc's", Target{Config: "c", Metric: MetricP50, Num: "cmrun", Den: "runc", Max: 0.25}, 1.0 / 3, true, false},
		{"rss within twice crun's", Target{Config: "c", Metric: MetricRSS, Num: "cmrun", Den: "crun", Max: 2}, 1.5, true, true},
		{"no goal is always met", Target{Config: "c", Metric: MetricP50, Num: "runc", Den: "cmrun"}, 3, true, true},
		{"missing contender", Target{Config: "c", Metric: MetricP50, Num: "cmrun", Den: "baseline", Max: 1}, 0, false, true},
		{"config-less denominator", Target{Config: "c", Metric: MetricP50, Num: "cmrun", Den: "shared"}, 2, true, true},
		{"other config's contender is not used", Target{Config: "none", Metric: MetricP50, Num: "cmrun", Den: "crun"}, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ratio, ok := tt.target.Ratio(sums)
			require.Equal(t, tt.wantOK, ok)
			require.InDelta(t, tt.wantRatio, ratio, 1e-9)
			if ok {
				require.Equal(t, tt.wantMet, tt.target.Met(ratio))
			}
		})
	}
}
