package shim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// managerClient posts the shim's messages to the manager's shim socket.
type managerClient struct{ *unixClient }

// newManagerClient sends token (if not empty) with every message.
func newManagerClient(socket, token string) managerClient {
	c := newUnixClient(socket, managerTimeout)
	c.token = token
	return managerClient{c}
}

// post sends one message. Only a 404 that carries a JSON error is the
// manager's deliberate "unknown container": a plain "404 page not found"
// from a server that lacks the endpoint must not kill a container.
func (c managerClient) post(ctx context.Context, path string, in, out any) error {
	err := c.call(ctx, http.MethodPost, path, in, out)
	var se *StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound && se.Message != "" {
		return fmt.Errorf("%w (%v)", ErrUnknownContainer, err)
	}
	return err
}
