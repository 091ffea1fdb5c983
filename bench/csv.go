package bench

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// WriteSamplesCSV writes the raw latency samples, one run per row, so
// anyone can redo the statistics: contender, config, round, wall_us, maxrss_kib.
func WriteSamplesCSV(w io.Writer, samples []Sample) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"contender", "config", "round", "wall_us", "maxrss_kib"})
	for _, s := range samples {
		_ = cw.Write([]string{
			s.Name,
			s.Config,
			strconv.Itoa(s.Round),
			strconv.FormatInt(s.Wall.Microseconds(), 10),
			strconv.FormatInt(s.MaxRSSKiB, 10),
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write latency csv: %w", err)
	}
	return nil
}

// WriteThroughputCSV writes the throughput results: contender, config, parallel,
// containers, elapsed_ms, per_second.
func WriteThroughputCSV(w io.Writer, tps []Throughput) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"contender", "config", "parallel", "containers", "elapsed_ms", "per_second"})
	for _, t := range tps {
		_ = cw.Write([]string{
			t.Name,
			t.Config,
			strconv.Itoa(t.Parallel),
			strconv.Itoa(t.Containers),
			strconv.FormatInt(t.Elapsed.Milliseconds(), 10),
			strconv.FormatFloat(t.PerSecond(), 'f', 1, 64),
		})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write throughput csv: %w", err)
	}
	return nil
}
