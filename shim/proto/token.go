package proto

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// The token is the shim's secret from the manager: the shim sends it with
// every message so the manager can tell its shim from any other root
// process. It comes on a pipe, never in the command line or the
// environment, which other processes can read.

// Descriptors a launcher hands cmshim (exec.Cmd.ExtraFiles in this order).
const (
	ReadyFd = 3 // --ready-fd: the shim writes "ok" or its error, one line
	TokenFd = 4 // --token-fd: a pipe that holds the token and then ends
	LockFd  = 5 // --lock-fd: the container's shim lock, held while the shim lives
)

// maxToken bounds what ReadToken reads.
const maxToken = 1024

// ReadToken reads the token from descriptor fd (a pipe the launcher
// wrote it to and closed) and closes fd.
func ReadToken(fd int) (string, error) {
	f := os.NewFile(uintptr(fd), "token")
	if f == nil {
		return "", fmt.Errorf("--token-fd %d: not a descriptor", fd)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxToken+1))
	if err != nil {
		return "", fmt.Errorf("--token-fd %d: read token: %w", fd, err)
	}
	token := strings.TrimSpace(string(data))
	switch {
	case token == "":
		return "", fmt.Errorf("--token-fd %d: empty token", fd)
	case len(token) > maxToken:
		return "", fmt.Errorf("--token-fd %d: token longer than %d bytes", fd, maxToken)
	case strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		return "", fmt.Errorf("--token-fd %d: token has a character other than printable ASCII", fd)
	}
	return token, nil
}

// TokenPipe returns the read end of a pipe that holds token and then
// ends, to hand the token to a child as a descriptor. A token is far
// smaller than a pipe's buffer, so the write never waits for a reader.
func TokenPipe(token string) (*os.File, error) {
	if len(token) > maxToken {
		return nil, errors.New("token pipe: token too long")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("token pipe: %w", err)
	}
	_, err = io.WriteString(w, token)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("token pipe: %w", err)
	}
	return r, nil
}

// The token goes with every message to the manager as
// "Authorization: Bearer TOKEN".
const (
	authHeader   = "Authorization"
	bearerPrefix = "Bearer "
)

// SetToken puts token on a request's header h.
func SetToken(h http.Header, token string) { h.Set(authHeader, bearerPrefix+token) }

// Token returns the token of a request's header h; ok is false when it
// has no bearer token.
func Token(h http.Header) (token string, ok bool) {
	return strings.CutPrefix(h.Get(authHeader), bearerPrefix)
}
