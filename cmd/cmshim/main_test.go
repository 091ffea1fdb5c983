package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cm/shim"
)

func TestParseFlags(t *testing.T) {
	required := []string{"--id", "c1", "--bundle", "/b", "--state-dir", "/s", "--manager", "/m.sock"}
	tests := []struct {
		name    string
		args    []string
		want    shim.Options
		readyFd int
		wantErr string
	}{
		{
			name:    "defaults",
			args:    required,
			want:    shim.Options{ID: "c1", Bundle: "/b", StateDir: "/s", Manager: "/m.sock", RuntimeRoot: "/run/cmrun", LogMax: shim.DefaultLogMax},
			readyFd: -1,
		},
		{
			name:    "everything",
			args:    append(append([]string{}, required...), "--runtime-root", "/rt", "--log-max", "4096", "--init", "--ready-fd", "3"),
			want:    shim.Options{ID: "c1", Bundle: "/b", StateDir: "/s", Manager: "/m.sock", RuntimeRoot: "/rt", LogMax: 4096, Init: true},
			readyFd: 3,
		},
		{name: "ready fd on stdio", args: append(append([]string{}, required...), "--ready-fd", "1"), wantErr: "--ready-fd 1"},
		{name: "token fd on stdio", args: append(append([]string{}, required...), "--token-fd", "0"), wantErr: "--token-fd 0"},
		{name: "token fd is the ready fd", args: append(append([]string{}, required...), "--ready-fd", "3", "--token-fd", "3"), wantErr: "--token-fd 3"},
		{name: "missing manager", args: required[:6], wantErr: "--manager is required"},
		{name: "bad id", args: append([]string{"--id", "../x"}, required[2:]...), wantErr: "--id"},
		{name: "negative log cap", args: append(append([]string{}, required...), "--log-max", "-1"), wantErr: "--log-max"},
		{name: "stray argument", args: append(append([]string{}, required...), "extra"), wantErr: "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, readyFd, err := parseFlags(tc.args)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, o)
			require.Equal(t, tc.readyFd, readyFd)
		})
	}
}
