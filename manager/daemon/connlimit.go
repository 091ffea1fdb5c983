package daemon

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"cm/manager/api"
)

// connLimit is a listener that keeps at most max connections open, so
// that idle peers cannot use up the daemon's descriptors and leave real
// clients unanswered. At the cap, a new connection closes the one idle
// the longest (kept alive between requests, or not yet sent a byte): a
// new client always gets a slot, and an idle peer loses nothing it cannot
// redo by connecting again. Only when every connection stays in the
// middle of a request for busyWait is the new one refused with a 503, so
// its client fails at once instead of hanging.
//
// The server must report its connections' states with track (its
// ConnState hook): that is how the limit tells idle ones from busy ones.
type connLimit struct {
	net.Listener
	max  int
	name string // the socket, for messages
	log  *slog.Logger

	mu       sync.Mutex
	conns    map[net.Conn]*connSlot
	clock    uint64        // orders idleness: a higher since is more recent
	freed    chan struct{} // closed (and replaced) when a connection goes idle or away
	lastWarn time.Time     // the cap is logged at most once a minute
}

// busyWait is how long a new connection waits, at the cap with no idle
// connection, for one to finish its request: a client's kept-alive
// connection only counts as idle a moment after its answer arrived.
const busyWait = time.Second

// connSlot is what the limit knows of one open connection.
type connSlot struct {
	idle  bool   // between requests, or before the first
	since uint64 // when it last became idle, on the limit's clock
}

func newConnLimit(l net.Listener, max int, name string, log *slog.Logger) *connLimit {
	return &connLimit{Listener: l, max: max, name: name, log: log, conns: map[net.Conn]*connSlot{}, freed: make(chan struct{})}
}

// Accept returns the next connection that gets a slot.
func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.admit(c) {
			return c, nil
		}
		go refuse(c, fmt.Sprintf("%s: all %d connections are busy; try again", l.name, l.max))
	}
}

// admit gives c a slot, closing the longest-idle connection if the cap
// is reached; it returns false when none is idle within busyWait.
func (l *connLimit) admit(c net.Conn) bool {
	timer := time.NewTimer(busyWait)
	defer timer.Stop()
	for {
		l.mu.Lock()
		ok := l.makeRoom()
		if ok {
			l.clock++
			l.conns[c] = &connSlot{idle: true, since: l.clock}
		}
		freed := l.freed
		l.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-freed:
		case <-timer.C:
			return false
		}
	}
}

// makeRoom makes sure a slot is free, closing the connection idle the
// longest if need be; it returns false if every connection is busy. The
// caller holds mu.
func (l *connLimit) makeRoom() bool {
	if len(l.conns) >= l.max {
		var victim net.Conn
		var oldest *connSlot
		for vc, s := range l.conns {
			if s.idle && (oldest == nil || s.since < oldest.since) {
				victim, oldest = vc, s
			}
		}
		if now := time.Now(); now.Sub(l.lastWarn) > time.Minute {
			l.lastWarn = now
			l.log.Warn("connection cap reached: closing the longest idle connections", "socket", l.name, "max", l.max, "idle-closed", victim != nil)
		}
		if victim == nil {
			return false
		}
		delete(l.conns, victim)
		victim.Close() // its server goroutine sees the error and ends
	}
	return true
}

// track is the server's ConnState hook.
func (l *connLimit) track(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.conns[c]
	switch {
	case state == http.StateClosed || state == http.StateHijacked:
		delete(l.conns, c)
	case s == nil: // closed by admit already
		return
	case state == http.StateActive:
		s.idle = false
		return
	case state == http.StateIdle:
		l.clock++
		s.idle, s.since = true, l.clock
	default:
		return
	}
	close(l.freed) // wake an admit waiting for room
	l.freed = make(chan struct{})
}

// refuse answers a connection that got no slot with a 503 and closes it,
// so its client fails at once instead of waiting.
func refuse(c net.Conn, msg string) {
	defer c.Close()
	body, _ := json.Marshal(api.ErrorBody{Error: msg})
	c.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}
