package bench

// Target is one goal from the speed issue, stated as a ratio between two
// contenders: Num's metric divided by Den's should be at most Max.
// These are benchmark goals to report against, never test assertions:
// timings depend on the machine and its load.
type Target struct {
	Metric   string // MetricP50 or MetricRSS
	Num, Den string // contender names
	Max      float64
}

// The metrics a Target can compare.
const (
	MetricP50 = "p50"     // median wall time
	MetricRSS = "max RSS" // median over runs of ru_maxrss
)

// Targets are the goals for cmrun, plus its distance from the
// bare-clone floor (Max 0: reported, no goal).
var Targets = []Target{
	{Metric: MetricP50, Num: "cmrun", Den: "crun", Max: 0.8},
	{Metric: MetricP50, Num: "cmrun", Den: "runc", Max: 0.25},
	{Metric: MetricP50, Num: "cmrun", Den: "baseline"},
	{Metric: MetricRSS, Num: "cmrun", Den: "crun", Max: 2},
}

// Ratio computes the target's ratio from sums; ok is false when either
// contender is missing or the denominator is zero.
func (t Target) Ratio(sums []Summary) (ratio float64, ok bool) {
	num, ok1 := find(sums, t.Num)
	den, ok2 := find(sums, t.Den)
	if !ok1 || !ok2 {
		return 0, false
	}
	a, b := t.value(num), t.value(den)
	if b == 0 {
		return 0, false
	}
	return a / b, true
}

// Met reports whether ratio reaches the goal (always true without one).
func (t Target) Met(ratio float64) bool { return t.Max == 0 || ratio <= t.Max }

func (t Target) value(s Summary) float64 {
	if t.Metric == MetricRSS {
		return float64(s.RSSP50KiB)
	}
	return float64(s.P50)
}
