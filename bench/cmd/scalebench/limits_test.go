package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFit(t *testing.T) {
	roomy := limits{pidMax: 1 << 22, threadsMax: 1 << 22, nofile: 1 << 20, memAvailKiB: 1 << 40}
	tests := []struct {
		name        string
		lim         func(l limits) limits
		per         perContainer
		wantN       int
		wantBinding string
	}{
		{"pid_max binds", func(l limits) limits { l.pidMax, l.tasksNow = 32768, 768; return l },
			perContainer{tasks: 8, daemonFDs: 1}, 3600, "kernel.pid_max 32768"},
		{"threads-max binds", func(l limits) limits { l.threadsMax = 10000; return l },
			perContainer{tasks: 9, daemonFDs: 1}, 1000, "kernel.threads-max 10000"},
		{"descriptors bind", func(l limits) limits { l.nofile = 1064; return l },
			perContainer{tasks: 1, daemonFDs: 2}, 450, "the daemon's descriptor limit 1064"},
		{"our pids cgroup binds", func(l limits) limits { l.pidsMax = 1000; return l },
			perContainer{tasks: 9, daemonFDs: 1}, 100, "pids.max 1000 of our cgroup"},
		{"memory binds", func(l limits) limits { l.memAvailKiB = 1000 * 1024; return l },
			perContainer{tasks: 1, daemonFDs: 1, memKiB: 1024}, 800, "MemAvailable 1000 MiB"},
		{"nothing free", func(l limits) limits { l.pidMax, l.tasksNow = 100, 200; return l },
			perContainer{tasks: 8, daemonFDs: 1}, 0, "kernel.pid_max 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, binding := tt.lim(roomy).fit(tt.per)
			require.Equal(t, tt.wantN, n)
			require.Equal(t, tt.wantBinding, binding)
		})
	}
}
