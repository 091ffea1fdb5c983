package runtime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestProcessStart: the estimate lies before now, and not before the
// process could have been started (its start time in /proc is coarse,
// so only an upper bound on the age is checked).
func TestProcessStart(t *testing.T) {
	now := time.Now()
	forked, err := ProcessStart(now)
	require.NoError(t, err)
	require.True(t, forked.Before(now), "forked %v is not before %v", forked, now)
	require.Less(t, now.Sub(forked), 10*time.Minute, "a test process is not that old")
}
