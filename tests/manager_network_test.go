package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/network"
	"cm/tests/fixture"
)

// The network tests run the real CNI plugins (make cni builds them into
// bin/cni) on a bridge and a subnet of each test daemon's own, so that
// daemons of parallel tests never share addresses; cleanup removes the
// bridge. All traffic stays on loopback and on that bridge.

// cniBinDir is where `make cni` put the plugins, or $CM_CNI_BIN_DIR.
func cniBinDir() string {
	if d := os.Getenv("CM_CNI_BIN_DIR"); d != "" {
		return d
	}
	d, _ := filepath.Abs("../bin/cni")
	return d
}

func requireCNIPlugins(t *testing.T) {
	t.Helper()
	for _, p := range []string{"bridge", "host-local", "loopback", "portmap"} {
		_, err := os.Stat(filepath.Join(cniBinDir(), p))
		require.NoError(t, err, "the CNI plugins: run `make cni` (it builds them into bin/cni), or set CM_CNI_BIN_DIR")
	}
}

var testNets = struct {
	sync.Mutex
	used map[int]bool
}{used: map[int]bool{}}

// testNetwork picks a bridge name and a /24 in 10.232.0.0/16 that no
// interface of the host uses yet.
func testNetwork(t *testing.T) (bridge, subnet string) {
	testNets.Lock()
	defer testNets.Unlock()
	inUse := map[int]bool{}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ip := ipn.IP.To4(); ip != nil && ip[0] == 10 && ip[1] == 232 {
				inUse[int(ip[2])] = true
			}
		}
	}
	for {
		x := 1 + rand.IntN(254)
		if !inUse[x] && !testNets.used[x] {
			testNets.used[x] = true
			return fmt.Sprintf("cmt%08x", rand.Uint32()), fmt.Sprintf("10.232.%d.0/24", x)
		}
	}
}

func (m *managerProc) netConfig() network.Config {
	return network.Config{BinDir: cniBinDir(), Bridge: m.Bridge, Subnet: m.Subnet, StateDir: filepath.Join(m.StateDir, "cni")}
}

// removeNetwork undoes what a failed test left of its containers'
// networks (portmap's DEL needs the ports: they are in the record), then
// removes the daemon's bridge.
func (m *managerProc) removeNetwork() {
	nss, _ := filepath.Glob(filepath.Join(m.StateDir, "containers", "*", "netns"))
	for _, ns := range nss {
		var rec struct {
			ID   string            `json:"id"`
			Spec api.CreateRequest `json:"spec"`
		}
		data, _ := os.ReadFile(filepath.Join(filepath.Dir(ns), "state.json"))
		json.Unmarshal(data, &rec)
		if rec.ID == "" { // a directory rm had moved aside: .deleted-ID
			rec.ID = strings.TrimPrefix(filepath.Base(filepath.Dir(ns)), ".deleted-")
		}
		m.netConfig().Teardown(context.Background(), rec.ID, ns, api.NetworkBridge, rec.Spec.Ports)
		network.RemoveNetNS(ns)
	}
	if _, err := net.InterfaceByName(m.Bridge); err == nil {
		exec.Command("ip", "link", "del", m.Bridge).Run()
	}
}

// gateway is the bridge's address: the first of the subnet.
func (m *managerProc) gateway() string {
	return netip.MustParsePrefix(m.Subnet).Addr().Next().String()
}

// bridgeVeths lists the interfaces attached to the daemon's bridge.
func (m *managerProc) bridgeVeths() []string {
	out, _ := exec.Command("ip", "-o", "link", "show", "master", m.Bridge).Output()
	return strings.Fields(strings.TrimSpace(string(out)))
}

// leases lists the addresses host-local has handed out (its files named by address).
func (m *managerProc) leases() []string {
	entries, _ := os.ReadDir(m.netConfig().LeaseDir())
	var ips []string
	for _, e := range entries {
		if net.ParseIP(e.Name()) != nil {
			ips = append(ips, e.Name())
		}
	}
	return ips
}

// natRules is the host's nat table, as iptables-save prints it.
func natRules(t *testing.T) string {
	out, err := exec.Command("iptables-save", "-t", "nat").Output()
	require.NoError(t, err, "iptables-save")
	return string(out)
}

// requireNetworkGone checks that nothing of container id's network is
// left: no veth on the bridge, no address leased, no nat rule naming it,
// no namespace mounted, no cached CNI result. With id "", only what
// belongs to no container in particular: veths and leases.
func (m *managerProc) requireNetworkGone(id string) {
	t := m.t
	t.Helper()
	require.Empty(t, m.bridgeVeths(), "veths left on bridge %s", m.Bridge)
	require.Empty(t, m.leases(), "host-local leases left in %s", m.netConfig().LeaseDir())
	if id == "" {
		return
	}
	require.NotContains(t, natRules(t), id, "iptables nat rules of %s left", id)
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	require.NotContains(t, string(mounts), id, "mount of %s left (its netns?)", id)
	cached, _ := filepath.Glob(filepath.Join(m.StateDir, "cni", "cache", "results", "*"+id+"*"))
	require.Empty(t, cached, "libcni cache of %s left", id)
}

// freePort is a TCP port nothing listens on now.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// httpGet fetches url; the timeout only bounds one try of a polling loop.
func httpGet(url string) (string, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(body), err
}

// webRootfs is a busybox rootfs with /www/index.html holding token.
func webRootfs(t *testing.T, dir, token string) string {
	rootfs := filepath.Join(dir, "web-rootfs")
	require.NoError(t, fixture.BusyboxRootfs(rootfs))
	require.NoError(t, os.Mkdir(filepath.Join(rootfs, "www"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(rootfs, "www", "index.html"), []byte(token), 0o644))
	return rootfs
}

// logsOf is everything container id wrote.
func (m *managerProc) logsOf(id string) string {
	rc, err := m.Client.Logs(m.ctx(), id, false)
	require.NoError(m.t, err)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	require.NoError(m.t, err)
	return string(data)
}

// TestManagerNetwork (issue 20): --network bridge with a published port
// answered by busybox httpd, from the host on 127.0.0.1 and on the
// container's address; a container that reaches a server on the host;
// none and host; wrong requests. After each rm nothing of the network is
// left: no veth, lease, nat rule, namespace mount or cached result.
func TestManagerNetwork(t *testing.T) {
	requireCNIPlugins(t)
	dir := t.TempDir()
	m := startManager(t, dir, "--heartbeat", "200ms")
	token := "served by busybox httpd in a cm container " + strconv.Itoa(rand.Int())
	rootfs := webRootfs(t, dir, token)
	httpd := []string{"httpd", "-f", "-p", "80", "-h", "/www"}

	t.Run("published port and the way to the host", func(t *testing.T) {
		m := m.in(t)
		hostPort := freePort(t)
		out := m.cmctlOK("create", "--name", "web", "--network", "bridge", "-p", fmt.Sprintf("%d:80", hostPort), "--rootfs", rootfs, "--", httpd[0], httpd[1], httpd[2], httpd[3], httpd[4], httpd[5])
		web, err := m.Client.Get(m.ctx(), out)
		require.NoError(t, err)
		require.Equal(t, manager.Ready, web.State)
		require.NotNil(t, web.Network, "inspect shows the network")
		require.Equal(t, api.NetworkBridge, web.Network.Mode)
		require.Equal(t, m.Bridge, web.Network.Bridge)
		require.Equal(t, m.gateway(), web.Network.Gateway)
		ip, err := netip.ParsePrefix(web.Network.IP)
		require.NoError(t, err, "the container's address")
		require.True(t, netip.MustParsePrefix(m.Subnet).Contains(ip.Addr()), "%s in %s", ip, m.Subnet)
		require.Equal(t, []api.PortMapping{{HostPort: hostPort, ContainerPort: 80, Protocol: "tcp"}}, web.Network.Ports)
		_, err = m.Client.Start(m.ctx(), web.ID)
		require.NoError(t, err)

		// httpd listens a moment after it starts: poll until it answers.
		for _, url := range []string{fmt.Sprintf("http://127.0.0.1:%d/", hostPort), "http://" + ip.Addr().String() + "/"} {
			var body string
			var err error
			require.Eventually(t, func() bool {
				body, err = httpGet(url)
				return err == nil
			}, waitLong, tick, "GET %s: %v", url, err)
			require.Equal(t, token, body, "GET %s", url)
		}
		// What requireNetworkGone looks for is there while the container lives.
		require.Len(t, m.leases(), 1)
		require.NotEmpty(t, m.bridgeVeths())
		require.Contains(t, natRules(t), web.ID, "portmap's rules name the container")

		// The container reaches the host: a server on the bridge's address.
		l, err := net.Listen("tcp", net.JoinHostPort(m.gateway(), "0"))
		require.NoError(t, err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "the host answers "+r.URL.Path+"\n")
		})}
		go srv.Serve(l)
		defer srv.Close()
		client := m.create(api.CreateRequest{Rootfs: rootfs, Network: api.NetworkBridge,
			Args: []string{"wget", "-q", "-O", "-", "http://" + l.Addr().String() + "/from-the-container"}})
		_, err = m.Client.Start(m.ctx(), client.ID)
		require.NoError(t, err)
		client, err = m.Client.Wait(m.ctx(), client.ID)
		require.NoError(t, err)
		require.Equal(t, 0, client.ExitCode, "wget: %s", m.logsOf(client.ID))
		require.Equal(t, "the host answers /from-the-container\n", m.logsOf(client.ID))
		require.Len(t, m.leases(), 2)

		require.Equal(t, client.ID, m.cmctlOK("rm", client.ID))
		require.Equal(t, web.ID, m.cmctlOK("rm", "--force", "web"))
		for _, id := range []string{web.ID, client.ID} {
			m.requireContainerGone(id)
			m.requireNetworkGone(id)
		}
		_, err = httpGet(fmt.Sprintf("http://127.0.0.1:%d/", hostPort))
		require.Error(t, err, "the port is no longer published")
	})

	t.Run("none and host", func(t *testing.T) {
		m := m.in(t)
		links := func(mode string) string {
			ct := m.runToEnd2(api.CreateRequest{Rootfs: rootfs, Network: mode, Args: []string{"ip", "-o", "link"}})
			out := m.logsOf(ct.ID)
			require.Equal(t, ct.ID, m.cmctlOK("rm", ct.ID))
			m.requireContainerGone(ct.ID)
			m.requireNetworkGone(ct.ID)
			return out
		}
		none := links(api.NetworkNone)
		require.Len(t, strings.Split(strings.TrimSpace(none), "\n"), 1, "none: only loopback:\n%s", none)
		require.Regexp(t, `^1: lo: <LOOPBACK,UP,LOWER_UP>`, none, "none: loopback is up")
		// host: the container sees the host's interfaces, the daemon's bridge
		// among them (the first subtest made it; other tests' veths come and go).
		_, err := net.InterfaceByName(m.Bridge)
		require.NoError(t, err, "bridge %s", m.Bridge)
		host := links(api.NetworkHost)
		require.Contains(t, host, ": "+m.Bridge+": ", "host: the host's interfaces")
	})

	t.Run("bad input", func(t *testing.T) {
		m := m.in(t)
		create := func(req api.CreateRequest) error {
			req.Rootfs, req.Args = rootfs, []string{"true"}
			_, err := m.Client.Create(m.ctx(), req)
			return err
		}
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer busy.Close()
		busyPort := busy.Addr().(*net.TCPAddr).Port
		for _, tc := range []struct {
			name string
			req  api.CreateRequest
			want string
		}{
			{"unknown network", api.CreateRequest{Network: "wifi"}, `network: unknown network "wifi": want none, host or bridge`},
			{"port without bridge", api.CreateRequest{Ports: []api.PortMapping{{HostPort: 8080, ContainerPort: 80}}}, "ports: publishing ports needs network bridge (network is the default)"},
			{"port with none", api.CreateRequest{Network: "none", Ports: []api.PortMapping{{HostPort: 8080, ContainerPort: 80}}}, "ports: publishing ports needs network bridge (network is none)"},
			{"port with host", api.CreateRequest{Network: "host", Ports: []api.PortMapping{{HostPort: 8080, ContainerPort: 80}}}, "ports: publishing ports needs network bridge (network is host)"},
			{"port out of range", api.CreateRequest{Network: "bridge", Ports: []api.PortMapping{{HostPort: 70000, ContainerPort: 80}}}, "ports[0]: host port 70000: want 1 to 65535"},
			{"bad protocol", api.CreateRequest{Network: "bridge", Ports: []api.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "sctp"}}}, `ports[0]: protocol "sctp": want tcp or udp`},
			{"port twice", api.CreateRequest{Network: "bridge", Ports: []api.PortMapping{{HostPort: 8080, ContainerPort: 80}, {HostPort: 8080, ContainerPort: 81}}}, "ports[1]: host port 8080/tcp is published twice"},
			{"port in use on the host", api.CreateRequest{Network: "bridge", Ports: []api.PortMapping{{HostPort: busyPort, ContainerPort: 80}}}, fmt.Sprintf("ports[0]: host port %d/tcp is in use: ", busyPort)},
		} {
			err := create(tc.req)
			require.Equal(t, http.StatusBadRequest, api.StatusOf(err), "%s: %v", tc.name, err)
			require.ErrorContains(t, err, tc.want, tc.name)
			m.requireEmpty()
			m.requireNetworkGone("")
		}
		requireOneLineError(t, m.cmctl("create", "--network", "wifi", "--rootfs", rootfs, "--", "true"), `cmctl: network: unknown network "wifi"`)
		requireOneLineError(t, m.cmctl("create", "--network", "none", "-p", "8080:80", "--rootfs", rootfs, "--", "true"), "cmctl: ports: publishing ports needs network bridge (network is none)")
		requireOneLineError(t, m.cmctl("create", "--network", "bridge", "-p", "8080", "--rootfs", rootfs, "--", "true"), `cmctl: --publish: "8080": want HOSTPORT:CONTAINERPORT[/tcp|/udp]`)
		requireOneLineError(t, m.cmctl("create", "--network", "bridge", "-p", fmt.Sprintf("%d:80", busyPort), "--rootfs", rootfs, "--", "true"),
			fmt.Sprintf("cmctl: ports[0]: host port %d/tcp is in use", busyPort))
		m.requireEmpty()

		// A port another container publishes.
		port := freePort(t)
		first := m.create(api.CreateRequest{Rootfs: rootfs, Network: api.NetworkBridge, Ports: []api.PortMapping{{HostPort: port, ContainerPort: 80}}, Args: []string{"true"}})
		requireOneLineError(t, m.cmctl("create", "--network", "bridge", "-p", fmt.Sprintf("%d:8080/tcp", port), "--rootfs", rootfs, "--", "true"),
			fmt.Sprintf("cmctl: ports[0]: host port %d/tcp is already published by container %s", port, first.ID))
		// The same number over udp is another port.
		second := m.create(api.CreateRequest{Rootfs: rootfs, Network: api.NetworkBridge, Ports: []api.PortMapping{{HostPort: port, ContainerPort: 80, Protocol: "udp"}}, Args: []string{"true"}})
		require.Len(t, m.leases(), 2)
		for _, id := range []string{first.ID, second.ID} {
			require.Equal(t, id, m.cmctlOK("rm", "--force", id))
			m.requireContainerGone(id)
		}
		for _, id := range []string{first.ID, second.ID} {
			m.requireNetworkGone(id)
		}
		m.requireEmpty()
	})
	m.requireNoShims()
}

// TestManagerNetworkCrash: the daemon is killed with SIGKILL while
// containers have their network; after a restart rm leaves nothing of it,
// also when the dead daemon's rm had already run CNI DEL (DEL again is
// harmless).
func TestManagerNetworkCrash(t *testing.T) {
	requireCNIPlugins(t)
	dir := t.TempDir()
	m := startManager(t, dir, "--heartbeat", "200ms")
	req := func(port int) api.CreateRequest {
		return api.CreateRequest{Rootfs: managerRootfs(), Network: api.NetworkBridge,
			Ports: []api.PortMapping{{HostPort: port, ContainerPort: 80}}, Args: []string{"sleep", "1000"}}
	}
	running := m.create(req(freePort(t)))
	_, err := m.Client.Start(m.ctx(), running.ID)
	require.NoError(t, err)
	ready := m.create(req(freePort(t)))
	deleted := m.create(req(freePort(t)))
	require.Len(t, m.leases(), 3)

	m.kill9()
	// As if the dead daemon's rm of one of them had got through CNI DEL.
	ns := filepath.Join(m.StateDir, "containers", deleted.ID, "netns")
	require.True(t, network.IsNetNS(ns), "the container's namespace is mounted at %s", ns)
	require.NoError(t, m.netConfig().Teardown(context.Background(), deleted.ID, ns, api.NetworkBridge, deleted.Network.Ports))
	require.Len(t, m.leases(), 2)

	m.restart(m.StateDir)
	for _, ct := range []api.Container{running, ready, deleted} {
		got := m.waitConfirmed(ct.ID)
		if ct.ID != deleted.ID {
			require.Equal(t, ct.Network.IP, got.Network.IP, "inspect after the restart: the address, from libcni's cache")
		}
		require.Equal(t, ct.ID, m.cmctlOK("rm", "--force", ct.ID))
		m.requireContainerGone(ct.ID)
	}
	for _, ct := range []api.Container{running, ready, deleted} {
		m.requireNetworkGone(ct.ID)
	}
	m.requireEmpty()
}

// runToEnd2 is runToEnd with a whole request.
func (m *managerProc) runToEnd2(req api.CreateRequest) api.Container {
	m.t.Helper()
	ct := m.create(req)
	_, err := m.Client.Start(m.ctx(), ct.ID)
	require.NoError(m.t, err)
	ct, err = m.Client.Wait(m.ctx(), ct.ID)
	require.NoError(m.t, err)
	require.Equal(m.t, manager.Dead, ct.State)
	return ct
}
