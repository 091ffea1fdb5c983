package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTraceAsked(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"run", "--trace", "id"}, true},
		{[]string{"--debug", "run", "id"}, true},
		{[]string{"run", "--trace=true", "id"}, true},
		{[]string{"run", "id"}, false},
		{[]string{"exec", "id", "--", "sh", "--trace"}, false},
		{nil, false},
	} {
		require.Equal(t, tc.want, traceAsked(tc.args), "%v", tc.args)
	}
}
