package shim_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/shim/proto"
)

// TestLogs: the container's stdout and stderr reach container.log, which
// rotates to container.log.1 past --log-max bytes.
func TestLogs(t *testing.T) {
	const lines = 200 // lines of 38 bytes
	script := fmt.Sprintf(`echo to-stdout; echo to-stderr >&2; i=0; while [ $i -lt %d ]; do printf 'line %%05d ..........................\n' $i; i=$((i+1)); done`, lines)
	tests := []struct {
		name    string
		logMax  int64
		rotated bool
	}{
		{name: "no rotation below the cap", logMax: 1 << 20, rotated: false},
		{name: "rotation past a tiny cap", logMax: 1000, rotated: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, time.Second)
			p := e.launch(e.bundle(nil, "sh", "-c", script), "--log-max", fmt.Sprint(tc.logMax))
			p.start(t)
			require.Equal(t, 0, e.manager.waitReport(proto.StateDead).ExitCode)
			logPath := filepath.Join(p.stateDir, proto.LogFile)
			last := fmt.Sprintf("line %05d", lines-1)
			// DEAD comes only once the output is all in the log.
			data, err := os.ReadFile(logPath)
			require.NoError(t, err)
			require.Contains(t, string(data), last, "DEAD was reported before the last line reached the log")

			cur, err := os.ReadFile(logPath)
			require.NoError(t, err)
			old, err := os.ReadFile(logPath + ".1")
			if !tc.rotated {
				require.True(t, os.IsNotExist(err), "rotated below the cap")
				require.True(t, strings.HasPrefix(string(cur), "to-stdout\nto-stderr\nline 00000"), "log starts with %q", cur[:min(len(cur), 40)])
				return
			}
			require.NoError(t, err, "no rotated log")
			require.LessOrEqual(t, int64(len(cur)), tc.logMax)
			require.Equal(t, tc.logMax, int64(len(old)), "the old log is cut exactly at the cap")
			// The two files are the end of the output, without a gap, and
			// hold at least the last logMax bytes (20 lines are 760).
			both := string(old) + string(cur)
			require.True(t, strings.HasSuffix(both, last+" ..........................\n"))
			require.Contains(t, both, fmt.Sprintf("line %05d", lines-20))
		})
	}
}
