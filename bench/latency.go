package bench

import (
	"fmt"
	"io"
)

// Interleave runs every command once per round, in the given order
// (cmrun, runc, crun, baseline, cmrun, ...), for warmup+rounds rounds,
// and returns the samples of the last rounds. Interleaving is what makes
// the comparison fair on a shared machine: a burst of load, a cold page
// cache or a CPU frequency change hits every contender alike instead of
// whichever happened to be running all its runs at that moment.
//
// progress, if not nil, gets a line every 50 rounds.
func (m Meter) Interleave(cmds []Command, warmup, rounds int, progress io.Writer) ([]Sample, error) {
	samples := make([]Sample, 0, len(cmds)*rounds)
	for r := -warmup; r < rounds; r++ {
		for _, c := range cmds {
			s, err := m.Spawn(c)
			if err != nil {
				return nil, fmt.Errorf("round %d: %w", r, err)
			}
			if r < 0 {
				continue // warm-up: page cache, dentries, seccomp caches
			}
			s.Round = r
			samples = append(samples, s)
		}
		if progress != nil && r >= 0 && (r+1)%50 == 0 {
			fmt.Fprintf(progress, "  latency: %d/%d rounds\n", r+1, rounds)
		}
	}
	return samples, nil
}
