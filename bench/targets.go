package bench

import (
	"fmt"
	"io"
)

// The goals (#18), all in this file. They are benchmark goals to
// report against, never test assertions: timings depend on the machine
// and its load.

// The two spawn configs every runtime runs in the same interleaved run.
const (
	// ConfigRuncSpec is runc's default config.json (`cmrun spec`, which
	// writes runc's), running true without a terminal: no seccomp.
	ConfigRuncSpec = "runc-spec"
	// ConfigPodmanSeccomp is the same plus the seccomp section podman 4.3
	// writes for a container (bench/profiles).
	ConfigPodmanSeccomp = "podman-seccomp"
)

// Target is a goal stated as a ratio between two contenders in one spawn
// config: Num's metric divided by Den's should be at most Max, and at
// best at most Goal.
type Target struct {
	Config   string // the spawn config both contenders ran
	Metric   string // MetricP50 or MetricRSS
	Num, Den string // contender names; a Den missing from Config is looked up among config-less contenders (the baseline)
	Max      float64
	Goal     float64 // the stretch goal; 0: none
}

// The metrics a Target can compare.
const (
	MetricP50 = "p50"     // median wall time
	MetricRSS = "max RSS" // median over runs of ru_maxrss
)

// Targets are the goals for cmrun run, per config, plus its
// distance from runc and from the bare-clone floor (Max 0: reported, no goal).
var Targets = []Target{
	{Config: ConfigRuncSpec, Metric: MetricP50, Num: "cmrun", Den: "crun", Max: 1.0, Goal: 0.8},
	{Config: ConfigRuncSpec, Metric: MetricRSS, Num: "cmrun", Den: "crun", Max: 2},
	{Config: ConfigRuncSpec, Metric: MetricP50, Num: "cmrun", Den: "runc"},
	{Config: ConfigRuncSpec, Metric: MetricP50, Num: "cmrun", Den: "baseline"},
	{Config: ConfigPodmanSeccomp, Metric: MetricP50, Num: "cmrun", Den: "crun", Max: 0.5},
	{Config: ConfigPodmanSeccomp, Metric: MetricRSS, Num: "cmrun", Den: "crun", Max: 2},
	{Config: ConfigPodmanSeccomp, Metric: MetricP50, Num: "cmrun", Den: "runc"},
	{Config: ConfigPodmanSeccomp, Metric: MetricP50, Num: "cmrun", Den: "baseline"},
}

// Ratio computes the target's ratio from sums; ok is false when either
// contender is missing or the denominator is zero.
func (t Target) Ratio(sums []Summary) (ratio float64, ok bool) {
	num, ok1 := find(sums, t.Config, t.Num)
	den, ok2 := find(sums, t.Config, t.Den)
	if !ok2 {
		den, ok2 = find(sums, "", t.Den)
	}
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

// Limit is a goal on one measured value, in Unit: at most Bound, or with
// AtLeast at least Bound.
type Limit struct {
	What    string
	Bound   float64
	Unit    string // "ms", "/s", "MiB", "" for a plain count
	AtLeast bool
}

// The manager's and the scale run's goals.
var (
	CreateRunningP50 = Limit{What: "create→RUNNING p50, shim start included", Bound: 12, Unit: "ms"}
	ManagerRate      = Limit{What: "containers/s with 4 clients", Bound: 60, Unit: "/s", AtLeast: true}
	TasksPerCont     = Limit{What: "tasks per running container (shim + program)", Bound: 5}
	ShimPss          = Limit{What: "shim Pss (median)", Bound: 1.5, Unit: "MiB"}
	ScaleContainers  = Limit{What: "sleep containers running at once", Bound: 4000, AtLeast: true}
	ScaleFailures    = Limit{What: "failures", Bound: 0}
	PsWall           = Limit{What: "`cmctl ps` wall time p50 at that size", Bound: 100, Unit: "ms"}
	// ManagerRateClients is how many clients ManagerRate is measured with.
	ManagerRateClients = 4
)

// Met reports whether v satisfies the limit.
func (l Limit) Met(v float64) bool {
	if l.AtLeast {
		return v >= l.Bound
	}
	return v <= l.Bound
}

// Write writes one report line: the value, the bound and met or NOT met.
func (l Limit) Write(w io.Writer, v float64) {
	op := "<="
	if l.AtLeast {
		op = ">="
	}
	fmt.Fprintf(w, "- %-46s %9s  (target %s %s: %s)\n", l.What, l.format(v), op, l.format(l.Bound), Verdict(l.Met(v)))
}

func (l Limit) format(v float64) string {
	switch l.Unit {
	case "":
		if v == float64(int64(v)) {
			return fmt.Sprintf("%d", int64(v))
		}
		return fmt.Sprintf("%.2f", v)
	case "/s":
		return fmt.Sprintf("%.1f/s", v)
	default:
		return fmt.Sprintf("%.2f %s", v, l.Unit)
	}
}

// Verdict is how a report says whether a goal is reached.
func Verdict(met bool) string {
	if met {
		return "met"
	}
	return "NOT met"
}
