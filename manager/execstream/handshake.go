package execstream

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
)

// Handshake sends an exec request to url over conn, asking to switch to
// the exec frames, and reads the answer. It returns the answer and a
// reader holding whatever the peer sent after it: with 101 Switching
// Protocols the frames follow there; any other status is a refusal whose
// body says why. Both hops use it: cmctl to the daemon, the daemon to the
// shim.
func Handshake(conn net.Conn, url string, body []byte) (*http.Response, *bufio.Reader, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", Upgrade)
	if err := req.Write(conn); err != nil {
		return nil, nil, err
	}
	in := bufio.NewReader(conn)
	resp, err := http.ReadResponse(in, req)
	if err != nil {
		return nil, nil, err
	}
	return resp, in, nil
}
