package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReports(t *testing.T) {
	sums := []Summary{
		{Name: "cmrun", Config: ConfigRuncSpec, Runs: 200, P50: 12345 * time.Microsecond, P95: 20 * time.Millisecond, RSSP50KiB: 10240},
		{Name: "crun", Config: ConfigRuncSpec, Runs: 200, P50: 15 * time.Millisecond, P95: 18 * time.Millisecond, RSSP50KiB: 2048},
		{Name: "cmrun", Config: ConfigPodmanSeccomp, Runs: 200, P50: 12 * time.Millisecond, RSSP50KiB: 4096},
		{Name: "crun", Config: ConfigPodmanSeccomp, Runs: 200, P50: 30 * time.Millisecond, RSSP50KiB: 2048},
		{Name: "baseline", Runs: 200, P50: 2 * time.Millisecond, RSSP50KiB: 1024},
	}
	tps := []Throughput{
		{Name: "cmrun", Config: ConfigRuncSpec, Parallel: 1, Containers: 100, Elapsed: 2 * time.Second},
		{Name: "cmrun", Config: ConfigRuncSpec, Parallel: 4, Containers: 100, Elapsed: time.Second},
		{Name: "crun", Config: ConfigRuncSpec, Parallel: 1, Containers: 100, Elapsed: 4 * time.Second},
		{Name: "baseline", Parallel: 1, Containers: 100, Elapsed: time.Second},
	}
	tests := []struct {
		name  string
		write func(*bytes.Buffer)
		want  []string
	}{
		{"latency table", func(b *bytes.Buffer) { WriteLatencyTable(b, sums) }, []string{
			"| runc-spec | cmrun | 200 | 12.35 ms | 20.00 ms |", "| 10.0 MiB |", "| runc-spec | crun | 200 | 15.00 ms |",
			"| - | baseline | 200 | 2.00 ms |",
		}},
		{"targets", func(b *bytes.Buffer) { WriteTargets(b, sums, Targets) }, []string{
			"runc-spec: cmrun/crun p50", "0.82  (target <= 1.00: met; goal <= 0.80: NOT met)",
			"runc-spec: cmrun/runc p50", "n/a (missing contender)",
			"runc-spec: cmrun/crun max RSS", "5.00  (target <= 2.00: NOT met)",
			"podman-seccomp: cmrun/crun p50", "0.40  (target <= 0.50: met)\n",
			"podman-seccomp: cmrun/baseline p50", "6.00\n",
		}},
		{"throughput table", func(b *bytes.Buffer) { WriteThroughputTable(b, tps) }, []string{
			"| config | contender | sequential | 4 in parallel |", "| runc-spec | cmrun | 50.0/s | 100.0/s |",
			"| runc-spec | crun | 25.0/s |  |", "| - | baseline | 100.0/s |  |",
		}},
		{"limits", func(b *bytes.Buffer) {
			CreateRunningP50.Write(b, 12.5)
			ManagerRate.Write(b, 61)
			TasksPerCont.Write(b, 5)
			ShimPss.Write(b, 1.2)
		}, []string{
			"12.50 ms  (target <= 12.00 ms: NOT met)", "61.0/s  (target >= 60.0/s: met)",
			"5  (target <= 5: met)", "1.20 MiB  (target <= 1.50 MiB: met)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			tt.write(&b)
			for _, w := range tt.want {
				require.Contains(t, b.String(), w)
			}
		})
	}
}
