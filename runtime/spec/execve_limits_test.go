package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestExecveLimit(t *testing.T) {
	tests := []struct {
		stack uint64
		want  uint64
	}{
		{8 << 20, 2 << 20},            // the usual 8 MiB stack: a quarter
		{unix.RLIM_INFINITY, 6 << 20}, // unlimited: 3/4 of 8 MiB
		{64 << 20, 6 << 20},
		{256 << 10, 128 << 10}, // never below 32 pages
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, execveLimit(tc.stack), "stack %d", tc.stack)
	}
}

func TestCheckExecveSize(t *testing.T) {
	oneString := maxArgStrlen() - 1 // the longest string, its NUL makes MAX_ARG_STRLEN
	tests := []struct {
		name      string
		args, env []string
		field     string // empty: fits
	}{
		{"small", []string{"sh"}, []string{"A=1"}, ""},
		{"longest string", []string{"sh"}, []string{strings.Repeat("x", oneString)}, ""},
		{"one byte more", []string{"sh"}, []string{"A=1", strings.Repeat("x", oneString+1)}, "process.env[1]"},
		{"long argument", []string{"echo", strings.Repeat("x", oneString+1)}, nil, "process.args[1]"},
		{"many small strings", []string{"sh"}, strings.Split(strings.Repeat("x,", 20)+"x", ","), ""},
		{"env over the total", []string{"sh"}, repeatStrings(20, oneString), "process.env"},
		{"args over the total", repeatStrings(20, oneString), []string{"A=1"}, "process.args"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			field, problem, ok := CheckExecveSize("process", tc.args, tc.env, 8<<20)
			require.Equal(t, tc.field == "", ok, problem)
			require.Equal(t, tc.field, field)
		})
	}
}

func repeatStrings(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat("x", size)
	}
	return out
}
