package network

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"cm/manager/api"
)

// Defaults of Config: a bridge and a private subnet unlikely to be in use.
const (
	DefaultBridge = "cm0"
	DefaultSubnet = "10.231.0.0/24"
)

// The CNI network names; host-local keeps its leases in DataDir/<name>.
const (
	loopbackNetwork = "cm-loopback"
	bridgeNetwork   = "cm"
	containerIf     = "eth0"
)

// Config says where the CNI plugins are and what network they build.
type Config struct {
	BinDir   string // the bridge, host-local, loopback and portmap plugins
	Bridge   string // the host's bridge; default cm0
	Subnet   string // the containers' addresses; the bridge gets the first; default 10.231.0.0/24
	StateDir string // host-local's leases (ipam/) and libcni's cache (cache/)
}

func (c *Config) setDefaults() {
	if c.Bridge == "" {
		c.Bridge = DefaultBridge
	}
	if c.Subnet == "" {
		c.Subnet = DefaultSubnet
	}
}

// Check reports what is wrong with the configuration itself, so that the
// daemon refuses to start with it instead of failing every container.
func (c Config) Check() error {
	c.setDefaults()
	if _, _, err := net.ParseCIDR(c.Subnet); err != nil {
		return fmt.Errorf("network subnet %q: %w", c.Subnet, err)
	}
	if len(c.Bridge) > 15 {
		return fmt.Errorf("network bridge %q: longer than 15 characters, the limit of an interface name", c.Bridge)
	}
	return nil
}

// LeaseDir is where host-local records the addresses it handed out: one
// file per address, named by it.
func (c Config) LeaseDir() string { return filepath.Join(c.StateDir, "ipam", bridgeNetwork) }

// portMap is one entry of portmap's "portMappings" runtime config.
type portMap struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol"`
}

func (c Config) lists() (loopback, bridge *libcni.NetworkConfigList, err error) {
	c.setDefaults()
	lo := map[string]any{
		"cniVersion": "1.0.0", "name": loopbackNetwork,
		"plugins": []any{map[string]any{"type": "loopback"}},
	}
	br := map[string]any{
		"cniVersion": "1.0.0", "name": bridgeNetwork,
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": c.Bridge, "isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{
					"type": "host-local", "dataDir": filepath.Join(c.StateDir, "ipam"),
					"ranges": [][]map[string]string{{{"subnet": c.Subnet}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			// snat makes 127.0.0.1:HOSTPORT work: portmap sets route_localnet
			// on the bridge and masquerades the loopback source.
			map[string]any{"type": "portmap", "snat": true, "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	parse := func(v any) (*libcni.NetworkConfigList, error) {
		data, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return libcni.ConfListFromBytes(data)
	}
	if loopback, err = parse(lo); err != nil {
		return nil, nil, fmt.Errorf("loopback network config: %w", err)
	}
	if bridge, err = parse(br); err != nil {
		return nil, nil, fmt.Errorf("bridge network config: %w", err)
	}
	return loopback, bridge, nil
}

func (c Config) cni() *libcni.CNIConfig {
	return libcni.NewCNIConfigWithCacheDir([]string{c.BinDir}, filepath.Join(c.StateDir, "cache"), nil)
}

func runtimeConf(id, netns, ifName string, ports []api.PortMapping) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: ifName}
	if len(ports) > 0 {
		pm := make([]portMap, len(ports))
		for i, p := range ports {
			pm[i] = portMap{HostPort: p.HostPort, ContainerPort: p.ContainerPort, Protocol: p.Protocol}
			if pm[i].Protocol == "" {
				pm[i].Protocol = "tcp"
			}
		}
		rt.CapabilityArgs = map[string]any{"portMappings": pm}
	}
	return rt
}

// Setup makes the network of container id in mode none or bridge: a new
// namespace bind-mounted on netns, loopback up in it and, for bridge, the
// veth, address and published ports. On error, run Teardown: Setup does
// not undo its half.
func (c Config) Setup(ctx context.Context, id, netns, mode string, ports []api.PortMapping) (*api.NetworkStatus, error) {
	c.setDefaults()
	loopback, bridge, err := c.lists()
	if err != nil {
		return nil, err
	}
	if err := c.checkPlugins(mode); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("network state: %w", err)
	}
	if err := CreateNetNS(netns); err != nil {
		return nil, err
	}
	cni := c.cni()
	if _, err := cni.AddNetworkList(ctx, loopback, runtimeConf(id, netns, "lo", nil)); err != nil {
		return nil, fmt.Errorf("cni add %s: %w", loopbackNetwork, err)
	}
	st := &api.NetworkStatus{Mode: mode, Namespace: netns}
	if mode != api.NetworkBridge {
		return st, nil
	}
	res, err := cni.AddNetworkList(ctx, bridge, runtimeConf(id, netns, containerIf, ports))
	if err != nil {
		return nil, fmt.Errorf("cni add %s: %w", bridgeNetwork, err)
	}
	if err := fillStatus(st, res, c.Bridge, ports); err != nil {
		return nil, fmt.Errorf("cni add %s: %w", bridgeNetwork, err)
	}
	return st, nil
}

// fillStatus copies the bridge plugin's result into st.
func fillStatus(st *api.NetworkStatus, res types.Result, bridge string, ports []api.PortMapping) error {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return fmt.Errorf("result: %w", err)
	}
	st.Interface, st.Bridge, st.Ports = containerIf, bridge, ports
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() != nil {
			st.IP = ip.Address.String()
			if ip.Gateway != nil {
				st.Gateway = ip.Gateway.String()
			}
			break
		}
	}
	return nil
}

// Status is what Setup returned, read back from libcni's cache (after a
// daemon restart); os.ErrNotExist if there is no complete setup.
func (c Config) Status(id, netns, mode string, ports []api.PortMapping) (*api.NetworkStatus, error) {
	c.setDefaults()
	if !IsNetNS(netns) {
		return nil, os.ErrNotExist
	}
	st := &api.NetworkStatus{Mode: mode, Namespace: netns}
	if mode != api.NetworkBridge {
		return st, nil
	}
	_, bridge, err := c.lists()
	if err != nil {
		return nil, err
	}
	res, err := c.cni().GetNetworkListCachedResult(bridge, runtimeConf(id, netns, containerIf, ports))
	if err != nil {
		return nil, fmt.Errorf("cni cached result: %w", err)
	}
	if res == nil {
		return nil, os.ErrNotExist
	}
	if err := fillStatus(st, res, c.Bridge, ports); err != nil {
		return nil, fmt.Errorf("cni cached result: %w", err)
	}
	return st, nil
}

// checkPlugins fails, before anything is made, if a plugin the mode
// needs is missing.
func (c Config) checkPlugins(mode string) error {
	plugins := []string{"loopback"}
	if mode == api.NetworkBridge {
		plugins = append(plugins, "bridge", "host-local", "portmap")
	}
	for _, p := range plugins {
		if _, err := os.Stat(filepath.Join(c.BinDir, p)); err != nil {
			return fmt.Errorf("CNI plugin %s: %w (make cni builds the plugins; cmanagerd --cni-bin-dir says where they are)", p, err)
		}
	}
	return nil
}

// Teardown undoes Setup, or any part of it: CNI DEL for every network the
// mode uses (the plugins ignore what does not exist), then the namespace.
//
// The namespace is mounted before the first ADD and unmounted after the
// last DEL succeeded, so a netns file that is missing or not mounted (a
// crash on either side of the mount) means no ADD has left anything: the
// DELs are then only a precaution, and their errors (plugins removed
// since, say) do not keep the container from going.
func (c Config) Teardown(ctx context.Context, id, netns, mode string, ports []api.PortMapping) error {
	c.setDefaults()
	loopback, bridge, err := c.lists()
	if err != nil {
		return err
	}
	mounted := IsNetNS(netns)
	if !mounted {
		// The plugins skip a namespace that is gone, not a plain file.
		if err := RemoveNetNS(netns); err != nil {
			return err
		}
	}
	cni := c.cni()
	var errs []error
	if mode == api.NetworkBridge {
		if err := cni.DelNetworkList(ctx, bridge, runtimeConf(id, netns, containerIf, ports)); err != nil {
			errs = append(errs, fmt.Errorf("cni del %s: %w", bridgeNetwork, err))
		}
	}
	if err := cni.DelNetworkList(ctx, loopback, runtimeConf(id, netns, "lo", nil)); err != nil {
		errs = append(errs, fmt.Errorf("cni del %s: %w", loopbackNetwork, err))
	}
	if len(errs) > 0 && mounted {
		// Keep the namespace: the next DEL needs it. One line, both errors.
		err := errs[0]
		if len(errs) == 2 {
			err = fmt.Errorf("%w; %w", errs[0], errs[1])
		}
		return err
	}
	return RemoveNetNS(netns)
}
