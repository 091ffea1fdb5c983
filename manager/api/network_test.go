package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePortMapping(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want PortMapping
		err  string
	}{
		{in: "8080:80", want: PortMapping{HostPort: 8080, ContainerPort: 80}},
		{in: "53:5353/udp", want: PortMapping{HostPort: 53, ContainerPort: 5353, Protocol: "udp"}},
		{in: "1:65535/tcp", want: PortMapping{HostPort: 1, ContainerPort: 65535, Protocol: "tcp"}},
		{in: "8080", err: `"8080": want HOSTPORT:CONTAINERPORT[/tcp|/udp]`},
		{in: "0:80", err: `"0:80": ports are numbers from 1 to 65535`},
		{in: "80:x", err: `"80:x": ports are numbers from 1 to 65535`},
		{in: "80:80/sctp", err: `"80:80/sctp": protocol "sctp": want tcp or udp`},
		{in: "127.0.0.1:80:80", err: `"127.0.0.1:80:80": ports are numbers from 1 to 65535`},
	} {
		got, err := ParsePortMapping(tc.in)
		if tc.err != "" {
			require.EqualError(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}
