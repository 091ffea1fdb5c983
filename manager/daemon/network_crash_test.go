package daemon_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/daemon"
	"cm/manager/network"
)

// TestNetworkSetupAfterCrash: a daemon that died after CNI ADD but before
// writing the bundle left a record in CREATING, a mounted netns and a
// leased address. The restarted daemon prepares the container again: it
// undoes the old setup before it makes a new one, so the container ends
// up with one address, not two, and rm leaves none. Real plugins (make
// cni), as root, on a bridge of the test's own; the shims are fakes.
func TestNetworkSetupAfterCrash(t *testing.T) {
	require.Equal(t, 0, os.Geteuid(), "this test needs root")
	bin, err := filepath.Abs("../../bin/cni")
	require.NoError(t, err)
	if d := os.Getenv("CM_CNI_BIN_DIR"); d != "" {
		bin = d
	}
	_, err = os.Stat(filepath.Join(bin, "bridge"))
	require.NoError(t, err, "the CNI plugins: run `make cni`, or set CM_CNI_BIN_DIR")
	netCfg := network.Config{BinDir: bin, Bridge: fmt.Sprintf("cmd%08x", rand.Uint32()), Subnet: fmt.Sprintf("10.234.%d.0/24", 1+rand.IntN(254))}
	t.Cleanup(func() {
		if _, err := net.InterfaceByName(netCfg.Bridge); err == nil {
			exec.Command("ip", "link", "del", netCfg.Bridge).Run()
		}
	})
	h := newHarness(t, "shim", func(c *daemon.Config) { c.Network = netCfg })
	netCfg.StateDir = filepath.Join(h.cfg.StateDir, "cni") // the daemon's default
	t.Cleanup(func() {                                     // what a failure left (no ports are published here)
		nss, _ := filepath.Glob(filepath.Join(h.cfg.StateDir, "containers", "*", "netns"))
		for _, ns := range nss {
			netCfg.Teardown(context.Background(), filepath.Base(filepath.Dir(ns)), ns, api.NetworkBridge, nil)
			network.RemoveNetNS(ns)
		}
	})
	leases := func() []string {
		entries, _ := os.ReadDir(netCfg.LeaseDir())
		var ips []string
		for _, e := range entries {
			if net.ParseIP(e.Name()) != nil {
				ips = append(ips, e.Name())
			}
		}
		return ips
	}

	ct, err := h.client.Create(ctxT(t), api.CreateRequest{Rootfs: h.rootfs, Args: []string{"sleep"}, Network: api.NetworkBridge})
	require.NoError(t, err)
	h.waitState(ct.ID, manager.Ready)
	require.Len(t, leases(), 1)
	require.NoError(t, h.stop())

	containers := filepath.Join(h.cfg.StateDir, "containers")
	crashed := copyRecord(t, containers, ct.ID, "00000000000000c3", "crashed")
	_, err = netCfg.Setup(context.Background(), crashed, filepath.Join(containers, crashed, "netns"), api.NetworkBridge, nil)
	require.NoError(t, err)
	require.Len(t, leases(), 2)

	h.start()
	got := h.waitState(crashed, manager.Ready)
	require.NotNil(t, got.Network)
	require.NotEmpty(t, got.Network.IP)
	require.Len(t, leases(), 2, "the old address was given back before the new setup")
	for _, id := range []string{ct.ID, crashed} {
		_, err := h.client.Delete(ctxT(t), id, true)
		require.NoError(t, err)
	}
	require.Empty(t, leases())
	out, err := exec.Command("ip", "-o", "link", "show", "master", netCfg.Bridge).Output()
	require.NoError(t, err)
	require.Empty(t, string(out), "veths left on the bridge")
}
