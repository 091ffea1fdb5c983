package bench

import (
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
)

// Throughput is how fast one contender got through a number of
// containers with a given number running at once.
type Throughput struct {
	Name       string
	Config     string        // the contender's config; empty for the baseline and the manager
	Parallel   int           // containers running at once
	Containers int           // how many were run in all
	Elapsed    time.Duration // summed over the chunks
}

// PerSecond is containers per second.
func (t Throughput) PerSecond() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(t.Containers) / t.Elapsed.Seconds()
}

// InterleavedThroughput runs n containers of every command with parallel
// at a time. To keep it fair like Interleave, the n runs are cut into
// chunks and the chunks go round-robin over the commands; the times of a
// command's chunks are added up.
func (m Meter) InterleavedThroughput(cmds []Command, n, parallel, chunks int) ([]Throughput, error) {
	if chunks < 1 || chunks > n {
		chunks = 1
	}
	out := make([]Throughput, len(cmds))
	for i, c := range cmds {
		out[i] = Throughput{Name: c.Name, Config: c.Config, Parallel: parallel}
	}
	for k := 0; k < chunks; k++ {
		// Spread n over the chunks: the first n%chunks get one more.
		size := n / chunks
		if k < n%chunks {
			size++
		}
		for i, c := range cmds {
			elapsed, err := m.batch(c, size, parallel)
			if err != nil {
				return nil, fmt.Errorf("throughput of %s, %d at a time: %w", c.Label(), parallel, err)
			}
			out[i].Containers += size
			out[i].Elapsed += elapsed
		}
	}
	return out, nil
}

// batch runs n containers of c, at most parallel at once, and returns the
// wall time from the first start to the last exit.
func (m Meter) batch(c Command, n, parallel int) (time.Duration, error) {
	var g errgroup.Group
	g.SetLimit(max(parallel, 1))
	start := time.Now()
	for range n {
		g.Go(func() error {
			_, err := m.Spawn(c)
			return err
		})
	}
	err := g.Wait()
	return time.Since(start), err
}
