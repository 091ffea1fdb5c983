package network

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

	"cm/manager/api"
)

// These tests run the real plugins (`make cni` builds them into bin/cni)
// as root, on a bridge and subnet of their own that cleanup removes.

func testConfig(t *testing.T) Config {
	require.Equal(t, 0, os.Geteuid(), "these tests need root")
	bin, err := filepath.Abs("../../bin/cni")
	require.NoError(t, err)
	if d := os.Getenv("CM_CNI_BIN_DIR"); d != "" {
		bin = d
	}
	_, err = os.Stat(filepath.Join(bin, "bridge"))
	require.NoError(t, err, "the CNI plugins: run `make cni`, or set CM_CNI_BIN_DIR")
	c := Config{
		BinDir: bin, Bridge: fmt.Sprintf("cmu%08x", rand.Uint32()),
		Subnet: fmt.Sprintf("10.233.%d.0/24", 1+rand.IntN(254)), StateDir: t.TempDir(),
	}
	t.Cleanup(func() {
		if _, err := net.InterfaceByName(c.Bridge); err == nil {
			exec.Command("ip", "link", "del", c.Bridge).Run()
		}
	})
	return c
}

func leases(t *testing.T, c Config) []string {
	entries, _ := os.ReadDir(c.LeaseDir())
	var ips []string
	for _, e := range entries {
		if net.ParseIP(e.Name()) != nil {
			ips = append(ips, e.Name())
		}
	}
	return ips
}

// TestTeardownOfEveryPartialSetup: whatever a crash left of a setup,
// Teardown removes it and can run again.
func TestTeardownOfEveryPartialSetup(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	dir := t.TempDir()
	ports := []api.PortMapping{{HostPort: 1 + rand.IntN(30000) + 30000, ContainerPort: 80, Protocol: "tcp"}}
	for _, tc := range []struct {
		name string
		make func(t *testing.T, id, ns string) // what a crash left
	}{
		{"nothing", func(t *testing.T, id, ns string) {}},
		{"the netns file, not mounted yet", func(t *testing.T, id, ns string) {
			require.NoError(t, os.WriteFile(ns, nil, 0o600))
		}},
		{"the netns, no CNI ADD yet", func(t *testing.T, id, ns string) {
			require.NoError(t, CreateNetNS(ns))
		}},
		{"a whole setup", func(t *testing.T, id, ns string) {
			st, err := c.Setup(ctx, id, ns, api.NetworkBridge, ports)
			require.NoError(t, err)
			require.NotEmpty(t, st.IP)
			require.Len(t, leases(t, c), 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("%016x", rand.Uint64())
			ns := filepath.Join(dir, id)
			tc.make(t, id, ns)
			for range 2 {
				require.NoError(t, c.Teardown(ctx, id, ns, api.NetworkBridge, ports))
				_, err := os.Lstat(ns)
				require.True(t, os.IsNotExist(err), "netns file left: %v", err)
				require.Empty(t, leases(t, c))
			}
		})
	}
}

// TestSetupStatus: Status reads back, from libcni's cache, what Setup
// returned; after Teardown there is none.
func TestSetupStatus(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	id := fmt.Sprintf("%016x", rand.Uint64())
	ns := filepath.Join(t.TempDir(), "netns")
	st, err := c.Setup(ctx, id, ns, api.NetworkBridge, nil)
	require.NoError(t, err)
	require.True(t, IsNetNS(ns))
	got, err := c.Status(id, ns, api.NetworkBridge, nil)
	require.NoError(t, err)
	require.Equal(t, st, got)
	require.NoError(t, c.Teardown(ctx, id, ns, api.NetworkBridge, nil))
	_, err = c.Status(id, ns, api.NetworkBridge, nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestCheck(t *testing.T) {
	require.NoError(t, Config{}.Check())
	require.ErrorContains(t, Config{Subnet: "10.1.2.3"}.Check(), `network subnet "10.1.2.3"`)
	require.ErrorContains(t, Config{Bridge: "a-very-long-bridge-name"}.Check(), "longer than 15 characters")
}

// TestMissingPlugins: Setup fails before it makes anything, and Teardown
// of that (no namespace file) succeeds without the plugins.
func TestMissingPlugins(t *testing.T) {
	ctx := context.Background()
	c := Config{BinDir: filepath.Join(t.TempDir(), "none-here"), StateDir: t.TempDir()}
	ns := filepath.Join(t.TempDir(), "netns")
	_, err := c.Setup(ctx, "0123456789abcdef", ns, api.NetworkBridge, nil)
	require.ErrorContains(t, err, "CNI plugin loopback: stat "+c.BinDir+"/loopback: no such file or directory (make cni builds the plugins")
	_, err = os.Lstat(ns)
	require.True(t, os.IsNotExist(err), "nothing made: %v", err)
	require.NoError(t, c.Teardown(ctx, "0123456789abcdef", ns, api.NetworkBridge, nil))
}
