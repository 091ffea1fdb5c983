package vm

import (
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestShellQuote feeds quoted words to busybox sh, the guest's shell,
// and checks that each comes back as exactly one, unchanged argument.
func TestShellQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "two words", "it's", "''", `$HOME`, "$(reboot)", "`id`", "a\nb", `back\slash`, "*", "-test.run=^Test(A|B)$"} {
		t.Run(s, func(t *testing.T) {
			out, err := exec.Command("busybox", "sh", "-c", `set -- `+shellQuote(s)+`; printf '%s|' "$#" "$1"`).Output()
			require.NoError(t, err)
			require.Equal(t, "1|"+s+"|", string(out))
		})
	}
}

func TestInitScriptRender(t *testing.T) {
	tests := []struct {
		name    string
		script  initScript
		want    []string
		wantErr string
	}{
		{
			name:   "arguments and environment",
			script: initScript{Args: []string{"-test.v", "it's"}, Env: []string{"A=1 2", "B="}, Marker: "m-123"},
			want: []string{
				"export 'A=1 2'\n",
				"export 'B='\n",
				"/test.bin '-test.v' 'it'\\''s' </dev/null >/dev/ttyS1 2>&1\n",
				`echo "m-123 $?" >/dev/ttyS1`,
				"mount -t cgroup2 cgroup2 /sys/fs/cgroup",
				"/sys/fs/cgroup/cgroup.subtree_control",
				"poweroff -f",
			},
		},
		{name: "entry without =", script: initScript{Env: []string{"A"}}, wantErr: `"A" is not NAME=value`},
		{name: "bad name", script: initScript{Env: []string{"A B=1"}}, wantErr: `"A B=1" is not NAME=value`},
		{name: "name with a command", script: initScript{Env: []string{"$(x)=1"}}, wantErr: "is not NAME=value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.script.render()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			for _, w := range tt.want {
				require.Contains(t, got, w)
			}
		})
	}
}

func TestParseOutput(t *testing.T) {
	const marker = "cm-vm-exit-0123"
	tests := []struct {
		name     string
		raw      string
		wantOut  string
		wantCode int
		wantErr  error
	}{
		{name: "success", raw: "=== RUN TestA\r\nPASS\r\n" + marker + " 0\r\n", wantOut: "=== RUN TestA\nPASS\n", wantCode: 0},
		{name: "failure", raw: "FAIL\r\n" + marker + " 1\r\n", wantOut: "FAIL\n", wantCode: 1},
		{name: "no output", raw: marker + " 2\r\n", wantOut: "", wantCode: 2},
		{name: "killed by a signal", raw: "x\r\n" + marker + " 137\r\n", wantOut: "x\n", wantCode: 137},
		{name: "output without a final newline", raw: "partial" + marker + " 0\r\n", wantOut: "partial" + marker + " 0\n", wantCode: -1, wantErr: ErrNoExitStatus},
		{name: "no marker: the guest died", raw: "=== RUN TestA\r\n", wantOut: "=== RUN TestA\n", wantCode: -1, wantErr: ErrNoExitStatus},
		{name: "another run's marker", raw: "cm-vm-exit-9999 0\r\n", wantOut: "cm-vm-exit-9999 0\n", wantCode: -1, wantErr: ErrNoExitStatus},
		{name: "garbled code", raw: marker + " zero\r\n", wantOut: marker + " zero\n", wantCode: -1, wantErr: ErrNoExitStatus},
		{name: "empty", raw: "", wantOut: "", wantCode: -1, wantErr: ErrNoExitStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code, err := parseOutput(tt.raw, marker)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, tt.wantOut, out)
			require.Equal(t, tt.wantCode, code)
		})
	}
}
