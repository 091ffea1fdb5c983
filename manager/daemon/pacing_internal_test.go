package daemon

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPacedInterval: the configured interval until the shims would send
// more than the budget a second, then as long as the budget requires.
func TestPacedInterval(t *testing.T) {
	const base = 2 * time.Second
	for _, tc := range []struct {
		watched, budget int
		want            time.Duration
	}{
		{watched: 0, budget: 200, want: base},
		{watched: 10, budget: 200, want: base},
		{watched: 400, budget: 200, want: base}, // exactly the budget at 2 s
		{watched: 401, budget: 200, want: 2005 * time.Millisecond},
		{watched: 4000, budget: 200, want: 20 * time.Second},
		{watched: 4000, budget: 0, want: base},  // budget 0: the interval is fixed
		{watched: 4000, budget: -1, want: base}, // so is a nonsense budget
		{watched: 200, budget: 20, want: 10 * time.Second},
	} {
		require.Equal(t, tc.want, pacedInterval(base, tc.watched, tc.budget), "%d containers, budget %d", tc.watched, tc.budget)
	}
}

// TestSilenceAllowed: the TTL keeps its ratio to the interval, and it is
// the TTL of the longer of the intervals told before and now.
func TestSilenceAllowed(t *testing.T) {
	const base, ttl = 2 * time.Second, 6 * time.Second
	for _, tc := range []struct {
		name              string
		before, now, base time.Duration
		ttl, want         time.Duration
	}{
		{name: "first word", before: 0, now: base, base: base, ttl: ttl, want: ttl},
		{name: "unchanged", before: base, now: base, base: base, ttl: ttl, want: ttl},
		{name: "grown", before: base, now: 8 * time.Second, base: base, ttl: ttl, want: 24 * time.Second},
		{name: "first word, grown", before: 0, now: 8 * time.Second, base: base, ttl: ttl, want: 24 * time.Second},
		{name: "shrunk: the old tick may still run", before: 8 * time.Second, now: base, base: base, ttl: ttl, want: 24 * time.Second},
		{name: "shrunk, still above the base", before: 20 * time.Second, now: 10 * time.Second, base: base, ttl: ttl, want: 60 * time.Second},
		{name: "an explicit TTL keeps its ratio", before: base, now: 20 * time.Second, base: base, ttl: 15 * time.Second, want: 150 * time.Second},
		{name: "fractional ratio", before: 100 * time.Millisecond, now: 250 * time.Millisecond, base: 100 * time.Millisecond, ttl: time.Second, want: 2500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, silenceAllowed(tc.before, tc.now, tc.base, tc.ttl))
		})
	}
}
