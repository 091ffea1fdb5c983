package daemon

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager/api"
)

func TestParseNetDev(t *testing.T) {
	const header = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`
	for _, tc := range []struct {
		name, text string
		want       *api.NetStats
		ok         bool
	}{
		{"loopback only", header + "    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0\n", &api.NetStats{}, false},
		{"two interfaces summed, lo left out", header +
			"    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0\n" +
			"  eth0:    1000      10    0    0    0     0          0         0      200       2    0    0    0     0       0          0\n" +
			"  eth1:      24       1    0    0    0     0          0         0        6       1    0    0    0     0       0          0\n",
			&api.NetStats{RxBytes: 1024, TxBytes: 206}, true},
		{"a line cut short is skipped", header + "  eth0: 1 2 3\n", &api.NetStats{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseNetDev(strings.NewReader(tc.text))
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

// TestNetStatsOfHostNamespace: a process in the daemon's own network
// namespace has no network I/O of its own to show (podman shows "--").
func TestNetStatsOfHostNamespace(t *testing.T) {
	require.Nil(t, readNetStats(os.Getpid()))
	require.Nil(t, readNetStats(1<<30), "no such process")
}
