package shim_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"

	"cm/shim/proto"

	"cm/tests/fixture"
)

// TestAbort: the manager answers 404 and nothing of the container may
// remain: every process of its cgroup dies, the shim cleans up and exits.
func TestAbort(t *testing.T) {
	tests := []struct {
		name         string
		edit         func(*specs.Spec)
		start        bool // start the container before the manager forgets it
		unknownFirst bool // the manager never knew it: 404 to the first registration
	}{
		{name: "running", start: true},
		{name: "running without pid namespace", edit: noPidNS, start: true},
		{name: "ready, never started", start: false},
		{name: "unknown at registration", unknownFirst: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const interval = 100 * time.Millisecond
			e := newEnv(t, interval)
			if tc.unknownFirst {
				e.manager.setUnknown(true)
			}
			bundle := e.bundle(tc.edit, "sh", "-c", "sleep 1000 & sleep 1000")
			p := e.launch(bundle)
			if !tc.unknownFirst {
				e.manager.waitReport(proto.StateReady)
				if tc.start {
					p.start(t)
					e.manager.waitReport(proto.StateRunning)
					require.Eventually(t, func() bool { return len(fixture.ProcessesInCgroup(p.id)) >= 2 },
						waitLong, tick, "the container's two processes do not run")
				}
				e.manager.setUnknown(true)
			}
			require.Eventually(t, func() bool { return p.exited() && len(fixture.ProcessesInCgroup(p.id)) == 0 },
				waitLong, tick, "after the 404: shim exited=%v, processes left %v", p.exited(), fixture.ProcessesInCgroup(p.id))
			_, err := os.Stat(p.stateDir)
			require.True(t, os.IsNotExist(err), "state dir left behind")
			_, err = os.Stat(filepath.Join(e.rtRoot, p.id))
			require.True(t, os.IsNotExist(err), "runtime state left behind")
		})
	}
}
