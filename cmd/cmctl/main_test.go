package main

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStatesDocIsCurrent: docs/states.mmd is what `cmctl states --mermaid`
// prints from the transition table. After changing the table, regenerate:
// go run ./cmd/cmctl states --mermaid > docs/states.mmd
func TestStatesDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../docs/states.mmd")
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"states", "--mermaid"}, &out, &errOut), errOut.String())
	require.Equal(t, string(want), out.String())
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"bogus"}, 1, "cmctl: unknown command \"bogus\" (try: cmctl --help)\n"},
		{[]string{"start"}, 1, "cmctl: usage: cmctl start ID\n"},
		{[]string{"kill", "a", "b", "c"}, 1, "cmctl: usage: cmctl kill ID [SIGNAL]\n"},
		{[]string{"states", "--dot", "--mermaid"}, 1, "cmctl: give --dot or --mermaid, not both\n"},
		{[]string{"--socket", "/nonexistent/cm.sock", "ps"}, 1, "cmctl: GET /v1/containers: dial unix /nonexistent/cm.sock: connect: no such file or directory\n"},
		{[]string{"ps", "--socket", "/nonexistent/after.sock"}, 1, "cmctl: GET /v1/containers: dial unix /nonexistent/after.sock: connect: no such file or directory\n"},
		{[]string{"create", "--memory", "lots", "--rootfs", "/", "sh"}, 1, "cmctl: --memory: \"lots\": want a number of bytes, with an optional k, m or g\n"},
		{[]string{"pause"}, 1, "cmctl: usage: cmctl pause ID\n"},
		{[]string{"resume", "a", "b"}, 1, "cmctl: usage: cmctl resume ID\n"},
		{[]string{"update", "--memory", "lots", "c1"}, 1, "cmctl: --memory: \"lots\": want a number of bytes, with an optional k, m or g\n"},
		{[]string{"create", "--label", "=x", "--rootfs", "/", "sh"}, 1, "cmctl: --label \"=x\": want KEY=VALUE\n"},
		{[]string{"ps", "--format", "{{.Nope"}, 1, "cmctl: --format: template: format:1: unclosed action\n"},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		require.Equal(t, tt.code, run(context.Background(), tt.args, &out, &errOut), "%v", tt.args)
		require.Equal(t, tt.err, errOut.String(), "%v", tt.args)
	}
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{{"1048576", 1 << 20}, {"64m", 64 << 20}, {"2G", 2 << 30}, {"512k", 512 << 10}}
	for _, tt := range tests {
		got, err := parseBytes(tt.in)
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
	_, err := parseBytes("-1")
	require.Error(t, err)
}
