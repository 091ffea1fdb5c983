package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager/api"
)

func TestHumanSize(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0B", 512: "512B", 999: "999B", 1000: "1kB", 1536: "1.536kB",
		21_474_836: "21.47MB", 25_280_000_000: "25.28GB", 1 << 60: "1153PB",
	} {
		require.Equal(t, want, humanSize(n), "%d bytes", n)
	}
}

func TestStatsRows(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	read := func(id string, at time.Duration, cpu, mem, limit uint64) api.Stats {
		return api.Stats{ID: id, Read: t0.Add(at), CPU: api.CPUStats{UsageNanos: cpu}, Memory: api.MemoryStats{Usage: mem, Limit: limit}}
	}
	prev := []api.Stats{read("a", 0, 1e9, 0, 0), read("b", 0, 5e9, 0, 0)}
	cur := []api.Stats{
		read("a", 2*time.Second, 2e9, 50, 200), // 1s of CPU in 2s
		read("b", 2*time.Second, 9e9, 1, 0),    // 4s of CPU in 2s: two CPUs busy
		read("c", 2*time.Second, 7e9, 1, 4),    // new: no rate yet
	}
	rows := statsRows(prev, cur)
	require.Len(t, rows, 3)
	require.InDelta(t, 50.0, rows[0].CPUPercent, 1e-9)
	require.InDelta(t, 25.0, rows[0].MemPercent, 1e-9)
	require.InDelta(t, 200.0, rows[1].CPUPercent, 1e-9)
	require.Zero(t, rows[1].MemPercent, "no limit known")
	require.Zero(t, rows[2].CPUPercent)
	require.InDelta(t, 25.0, rows[2].MemPercent, 1e-9)
}
