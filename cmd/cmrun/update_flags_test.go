package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseBytes: sizes as runc's update flags take them, binary units.
func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{"20000000", 20000000, false},
		{"10M", 10 << 20, false},
		{"10m", 10 << 20, false},
		{"512KiB", 512 << 10, false},
		{"1.5g", 3 << 29, false},
		{"2 GB", 2 << 30, false},
		{"-1", -1, false},
		{"lots", 0, true},
		{"-2", 0, true},
		{"10Q", 0, true},
		{"99999999P", 0, true},
		{"7b", 7, false},
		{"3Ki", 3 << 10, false},
		{"1.", 0, true},
		{".5k", 0, true},
		{"5kk", 0, true},
		{"5  k", 0, true},
		{"", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseBytes(tc.in)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, *got)
		})
	}
}
