package cgroupfs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCPUSharesToWeight(t *testing.T) {
	tests := []struct{ shares, want uint64 }{
		{2, 1},          // minimum maps to minimum
		{1024, 39},      // the v1 default
		{262144, 10000}, // maximum maps to maximum
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, cpuSharesToWeight(tc.shares), "shares %d", tc.shares)
	}
}

func TestBlkioWeightToIOWeight(t *testing.T) {
	tests := []struct {
		weight uint16
		want   uint64
	}{
		{10, 1},
		{500, 4950},
		{1000, 10000},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, blkioWeightToIOWeight(tc.weight), "weight %d", tc.weight)
	}
}

func TestSwapToV2(t *testing.T) {
	tests := []struct {
		swap, limit int64
		want        string
	}{
		{-1, 1 << 20, "max"},
		{3 << 20, 1 << 20, "2097152"},
		{1 << 20, 1 << 20, "0"}, // swap equal to the limit: no swap at all
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, swapToV2(tc.swap, tc.limit))
	}
}

func TestHugePageSizeName(t *testing.T) {
	tests := []struct{ in, want, wantErr string }{
		{in: "2MB", want: "2MB"},
		{in: "2048KB", want: "2MB"},
		{in: "1GB", want: "1GB"},
		{in: "1048576KB", want: "1GB"},
		{in: "64KB", want: "64KB"},
		{in: "2mb", want: "2MB"},
		{in: "3MB", wantErr: "not a power of two"},
		{in: "MB", wantErr: "want <number>KB, MB or GB"},
		{in: "2TB", wantErr: "want <number>KB, MB or GB"},
		{in: "0MB", wantErr: "want <number>KB, MB or GB"},
	}
	for _, tc := range tests {
		got, err := hugePageSizeName(tc.in)
		if tc.wantErr != "" {
			require.ErrorContains(t, err, tc.wantErr, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}
