package daemon_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
)

// reclaimingLauncher is the fake launcher with a Reclaim that records
// which containers it was asked to clean up, and fails while err is set.
type reclaimingLauncher struct {
	*fakeLauncher
	mu        sync.Mutex
	reclaimed []string
	err       error
}

func (l *reclaimingLauncher) Reclaim(ctx context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.reclaimed = append(l.reclaimed, id)
	return nil
}

func (l *reclaimingLauncher) calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reclaimed...)
}

// TestRmReclaimsWhenTheShimIsGone: rm of a LOST container whose shim is
// dead has the launcher kill and remove what is left; if that fails, rm
// fails and the container stays. A container its shim deleted is not
// reclaimed.
func TestRmReclaimsWhenTheShimIsGone(t *testing.T) {
	var l *reclaimingLauncher
	h := newHarness(t, "shim", func(c *daemon.Config) {
		l = &reclaimingLauncher{fakeLauncher: c.Launcher.(*fakeLauncher)}
		c.Launcher = l
	})
	lost := h.create("lost", "sleep")
	deleted := h.create("deleted", "exit", "0")
	for _, c := range []api.Container{lost, deleted} {
		h.waitState(c.ID, manager.Ready)
		_, err := h.client.Start(ctxT(t), c.ID)
		require.NoError(t, err)
	}
	h.waitState(deleted.ID, manager.Dead)
	_, err := h.client.Delete(ctxT(t), deleted.ID, false)
	require.NoError(t, err)
	require.Empty(t, l.calls(), "its shim deleted it")

	h.launcher.shim(lost.ID).Close() // as if killed: no word, no control socket
	h.waitState(lost.ID, manager.Lost)
	l.mu.Lock()
	l.err = errors.New("cgroup busy")
	l.mu.Unlock()
	_, err = h.client.Delete(ctxT(t), lost.ID, false)
	require.ErrorContains(t, err, "cgroup busy")
	require.Equal(t, manager.Lost, h.get(lost.ID).State, "an rm that could not kill it did not happen")

	l.mu.Lock()
	l.err = nil
	l.mu.Unlock()
	_, err = h.client.Delete(ctxT(t), lost.ID, false)
	require.NoError(t, err)
	require.Equal(t, []string{lost.ID}, l.calls())
	_, err = h.client.Get(ctxT(t), lost.ID)
	require.Equal(t, http.StatusNotFound, api.StatusOf(err))
}

// TestExecLauncherReclaim: the launcher reclaims by running its shim
// binary as "reclaim --id ID [--runtime-root DIR]", and a failure is one
// line naming the container with what the shim said.
func TestExecLauncherReclaim(t *testing.T) {
	dir := t.TempDir()
	argsFile := filepath.Join(dir, "args")
	// A stand-in for cmshim: records its arguments, fails as told.
	script := filepath.Join(dir, "cmshim")
	require.NoError(t, os.WriteFile(script, []byte(`#!/bin/sh
echo "$@" > `+argsFile+`
[ -z "$FAIL" ] || { echo "$FAIL" >&2; exit 1; }
`), 0o755))
	tests := []struct {
		name     string
		l        daemon.ExecLauncher
		fail     string
		wantArgs string
		wantErr  string
	}{
		{"default root", daemon.ExecLauncher{Binary: script}, "", "reclaim --id c1", ""},
		{"runtime root", daemon.ExecLauncher{Binary: script, RuntimeRoot: "/run/x"}, "", "reclaim --id c1 --runtime-root /run/x", ""},
		{"shim fails", daemon.ExecLauncher{Binary: script}, "cgroup busy", "reclaim --id c1", "reclaim container c1: cgroup busy"},
		{"no binary", daemon.ExecLauncher{Binary: filepath.Join(dir, "nope")}, "", "", "reclaim container c1: " + filepath.Join(dir, "nope") + " reclaim:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(argsFile)
			t.Setenv("FAIL", tt.fail)
			err := tt.l.Reclaim(context.Background(), "c1")
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.wantErr)
			}
			if tt.wantArgs != "" {
				got, err := os.ReadFile(argsFile)
				require.NoError(t, err)
				require.Equal(t, tt.wantArgs+"\n", string(got))
			}
		})
	}
}
