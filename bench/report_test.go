package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReports(t *testing.T) {
	sums := []Summary{
		{Name: "cmrun", Runs: 200, P50: 12345 * time.Microsecond, P95: 20 * time.Millisecond, RSSP50KiB: 10240},
		{Name: "crun", Runs: 200, P50: 15 * time.Millisecond, P95: 18 * time.Millisecond, RSSP50KiB: 2048},
	}
	tps := []Throughput{
		{Name: "cmrun", Parallel: 1, Containers: 100, Elapsed: 2 * time.Second},
		{Name: "cmrun", Parallel: 4, Containers: 100, Elapsed: time.Second},
		{Name: "crun", Parallel: 1, Containers: 100, Elapsed: 4 * time.Second},
	}
	tests := []struct {
		name  string
		write func(*bytes.Buffer)
		want  []string
	}{
		{"latency table", func(b *bytes.Buffer) { WriteLatencyTable(b, sums) }, []string{
			"| cmrun | 200 | 12.35 ms | 20.00 ms |", "| 10.0 MiB |", "| crun | 200 | 15.00 ms |",
		}},
		{"targets", func(b *bytes.Buffer) { WriteTargets(b, sums, Targets) }, []string{
			"cmrun/crun p50", "0.82  (target <= 0.80: NOT met)",
			"cmrun/runc p50", "n/a (missing contender)",
			"cmrun/crun max RSS", "5.00  (target <= 2.00: NOT met)",
		}},
		{"throughput table", func(b *bytes.Buffer) { WriteThroughputTable(b, tps) }, []string{
			"| contender | sequential | 4 in parallel |", "| cmrun | 50.0/s | 100.0/s |", "| crun | 25.0/s |  |",
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
