package api

import (
	"fmt"
	"strconv"
	"strings"
)

// Network modes of CreateRequest.Network.
const (
	NetworkNone   = "none"   // a network namespace of its own with only loopback, up
	NetworkHost   = "host"   // the host's network namespace
	NetworkBridge = "bridge" // its own namespace, a veth on the daemon's bridge, an IP from its subnet
)

// PortMapping publishes a container port on the host: connections to
// HostPort on any host address go to ContainerPort of the container.
type PortMapping struct {
	HostPort      int    `json:"hostPort"`
	ContainerPort int    `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"` // tcp (default) or udp
}

func (p PortMapping) String() string {
	proto := p.Protocol
	if proto == "" {
		proto = "tcp"
	}
	return fmt.Sprintf("%d:%d/%s", p.HostPort, p.ContainerPort, proto)
}

// NetworkStatus is what a container's network was given.
type NetworkStatus struct {
	Mode      string        `json:"mode"`
	Namespace string        `json:"namespace,omitempty"` // the bind-mounted netns file the runtime joins
	Interface string        `json:"interface,omitempty"` // inside the container, e.g. eth0
	IP        string        `json:"ip,omitempty"`        // CIDR notation, e.g. 10.231.0.2/24
	Gateway   string        `json:"gateway,omitempty"`   // the bridge's address: the host, seen from the container
	Bridge    string        `json:"bridge,omitempty"`
	Ports     []PortMapping `json:"ports,omitempty"`
}

// ParsePortMapping reads HOSTPORT:CONTAINERPORT[/tcp|/udp], the form of
// `cmctl create -p`.
func ParsePortMapping(s string) (PortMapping, error) {
	spec, proto, hasProto := strings.Cut(s, "/")
	if hasProto && proto != "tcp" && proto != "udp" {
		return PortMapping{}, fmt.Errorf("%q: protocol %q: want tcp or udp", s, proto)
	}
	host, ctr, ok := strings.Cut(spec, ":")
	if !ok {
		return PortMapping{}, fmt.Errorf("%q: want HOSTPORT:CONTAINERPORT[/tcp|/udp]", s)
	}
	hp, err1 := strconv.Atoi(host)
	cp, err2 := strconv.Atoi(ctr)
	if err1 != nil || err2 != nil || hp < 1 || hp > 65535 || cp < 1 || cp > 65535 {
		return PortMapping{}, fmt.Errorf("%q: ports are numbers from 1 to 65535", s)
	}
	return PortMapping{HostPort: hp, ContainerPort: cp, Protocol: proto}, nil
}
