package network

import (
	"fmt"
	"net"
	"strconv"

	"cm/manager/api"
)

// HostPortFree reports, as an error, whether a host process already
// listens on the port: portmap's DNAT would hide it, or it would hide
// the container, depending on the address. Binding is the only way to
// ask the kernel.
func HostPortFree(p api.PortMapping) error {
	addr := net.JoinHostPort("", strconv.Itoa(p.HostPort))
	if p.Protocol == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			return fmt.Errorf("host port %d/udp is in use: %w", p.HostPort, err)
		}
		return c.Close()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("host port %d/tcp is in use: %w", p.HostPort, err)
	}
	return l.Close()
}
