package bench

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProcMemory(t *testing.T) {
	m, err := ProcMemory(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, m.RSS)
	require.Positive(t, m.Anon)
	require.Positive(t, m.Pss)
	require.LessOrEqual(t, m.Anon, m.RSS)

	_, err = ProcMemory(-1)
	require.ErrorContains(t, err, "/proc/-1/status")
}
