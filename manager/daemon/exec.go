package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"cm/manager"
	"cm/manager/api"
	"cm/manager/execstream"
	"cm/shim/proto"
)

// This file is exec: another process in a RUNNING container. The daemon
// checks the request and the state machine, opens the same upgraded
// exchange with the container's shim, and then only relays bytes between
// the two connections; the frames (package execstream) are the client's
// and the shim's business.

// ErrBusy: too many exec sessions at once (503).
var ErrBusy = errors.New("busy")

// StatusError is a refusal passed on from a shim with its own status.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string { return e.Message }

func (d *Daemon) handleExec(w http.ResponseWriter, r *http.Request) error {
	var req execstream.Request
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if err := req.Check(); err != nil {
		field, problem, _ := strings.Cut(err.Error(), ": ")
		return badField(field, "%s", problem)
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), execstream.Upgrade) {
		return badField("Upgrade", "exec needs the headers Connection: Upgrade and Upgrade: %s", execstream.Upgrade)
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	s := e.Snap()
	// Exec is no transition, but whether it is allowed is the state
	// machine's to say, like every client operation.
	if err := manager.CheckOp(e.ID, manager.OpExec, s.State); err != nil {
		return err
	}
	if s.Control == "" {
		return fmt.Errorf("container %s: %w", e.ID, ErrNoShim)
	}
	// A taken-over connection no longer counts against --max-conns, so
	// exec sessions have a cap of their own, the same number.
	if d.execSessions.Add(1) > int64(d.cfg.MaxConns) {
		d.execSessions.Add(-1)
		return fmt.Errorf("%d exec sessions are open, the most --max-conns allows: %w", d.cfg.MaxConns, ErrBusy)
	}
	defer d.execSessions.Add(-1)
	shim, shimIn, err := d.dialExec(r.Context(), e, s.Control, &req)
	if err != nil {
		return err
	}
	defer shim.Close()
	client, clientIn, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return fmt.Errorf("exec: take over the connection: %w", err)
	}
	defer client.Close()
	client.SetDeadline(time.Time{})
	clientIn.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + execstream.Upgrade + "\r\n\r\n")
	if err := clientIn.Flush(); err != nil {
		return nil // the client left; the shim kills the process when we close
	}
	d.log.Info("exec", "id", e.ID, "args", req.Args, "tty", req.Tty)
	relay(r.Context(), client, clientIn.Reader, shim, shimIn)
	return nil
}

// dialExec opens the shim's exec exchange and returns the connection once
// the shim has switched protocols, with a reader that holds whatever it
// sent after its answer.
func (d *Daemon) dialExec(ctx context.Context, e *entry, control string, req *execstream.Request) (net.Conn, *bufio.Reader, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, nil, err
	}
	shimErr := func(err error) error { return &ShimError{ID: e.ID, Op: "exec", Err: err} }
	dialCtx, cancel := context.WithTimeout(ctx, d.cfg.ShimTimeout)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(dialCtx, "unix", control)
	if err != nil {
		return nil, nil, shimErr(err)
	}
	// Until the shim has answered, a hung shim is cut off like any other.
	conn.SetDeadline(time.Now().Add(d.cfg.ShimTimeout))
	resp, in, err := execstream.Handshake(conn, "http://shim"+proto.PathExec, body)
	if err != nil {
		conn.Close()
		return nil, nil, shimErr(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		defer conn.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		var eb api.ErrorBody
		if json.Unmarshal(data, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(data))
		}
		msg := fmt.Sprintf("container %s: %s", e.ID, eb.Error)
		if resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusBadRequest {
			return nil, nil, &StatusError{Code: resp.StatusCode, Message: msg}
		}
		return nil, nil, shimErr(errors.New(eb.Error))
	}
	conn.SetDeadline(time.Time{})
	return conn, in, nil
}

// relay copies both ways until the shim ends the session (after its Exit
// frame), the client leaves, or the daemon shuts down; then both
// connections are closed, which tells a shim whose client left to kill
// the process.
func relay(ctx context.Context, client net.Conn, clientIn io.Reader, shim net.Conn, shimIn io.Reader) {
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			client.Close()
			shim.Close()
		})
	}
	stop := context.AfterFunc(ctx, closeBoth)
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() {
		io.Copy(shim, clientIn)
		closeBoth()
	})
	io.Copy(client, shimIn)
	closeBoth()
	wg.Wait()
}
