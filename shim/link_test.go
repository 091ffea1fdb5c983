package shim

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/shim/proto"
)

// linkManager is a scripted manager for the link: answer decides the
// status of each request; every request is recorded.
type linkManager struct {
	mu       sync.Mutex
	requests []string       // paths, in order
	reports  []proto.Report // reports answered 200
	answer   func(path string, r proto.Report) int
	close    bool // "Connection: close" on every answer
}

func (m *linkManager) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var r proto.Report
	json.Unmarshal(body, &r)
	m.mu.Lock()
	m.requests = append(m.requests, req.URL.Path)
	code := m.answer(req.URL.Path, r)
	if code == http.StatusOK && req.URL.Path == proto.PathReport {
		m.reports = append(m.reports, r)
	}
	m.mu.Unlock()
	if m.close {
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(code)
	if code == http.StatusOK {
		json.NewEncoder(w).Encode(proto.RegisterReply{HeartbeatInterval: proto.Interval(20 * time.Millisecond)})
	} else {
		json.NewEncoder(w).Encode(proto.ErrorReply{Error: http.StatusText(code)})
	}
}

func (m *linkManager) count(path string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.requests {
		if p == path {
			n++
		}
	}
	return n
}

func (m *linkManager) delivered() []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var seqs []uint64
	for _, r := range m.reports {
		seqs = append(seqs, r.Seq)
	}
	return seqs
}

// startLink runs a link against m until the test ends; it returns the
// link and a channel that receives the abort.
func startLink(t *testing.T, m *linkManager) (*link, chan error) {
	sock := filepath.Join(t.TempDir(), "m.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: m}}
	srv.Start()
	aborted := make(chan error, 1)
	l := newLink("c1", newManagerClient(sock, ""), func() proto.Register { return proto.Register{ID: "c1", State: proto.StateReady} },
		func(err error) { aborted <- err })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return l, aborted
}

func TestLink(t *testing.T) {
	const long, step = 10 * time.Second, 5 * time.Millisecond
	tests := []struct {
		name  string
		m     *linkManager
		check func(t *testing.T, l *link, m *linkManager, aborted chan error)
	}{
		{
			name: "a rejected report does not hold back the next one",
			m: &linkManager{answer: func(path string, r proto.Report) int {
				if path == proto.PathReport && r.Seq == 1 {
					return http.StatusConflict
				}
				return http.StatusOK
			}},
			check: func(t *testing.T, l *link, m *linkManager, _ chan error) {
				l.push(proto.Report{ID: "c1", State: proto.StateReady, Seq: 1})
				l.push(proto.Report{ID: "c1", State: proto.StateRunning, Seq: 2})
				require.Eventually(t, func() bool {
					d := m.delivered()
					return len(d) > 0 && d[len(d)-1] == 2
				}, long, step, "delivered %v", m.delivered())
			},
		},
		{
			name: "unknown container aborts",
			m: &linkManager{answer: func(path string, _ proto.Report) int {
				if path == proto.PathHeartbeat {
					return http.StatusNotFound
				}
				return http.StatusOK
			}},
			check: func(t *testing.T, _ *link, m *linkManager, aborted chan error) {
				select {
				case err := <-aborted:
					require.ErrorIs(t, err, ErrUnknownContainer)
				case <-time.After(long):
					t.Fatal("no abort")
				}
				require.Equal(t, 1, m.count(proto.PathHeartbeat), "the link stops after the 404")
			},
		},
		{
			name: "a manager closing every connection costs one registration per heartbeat",
			m:    &linkManager{close: true, answer: func(string, proto.Report) int { return http.StatusOK }},
			check: func(t *testing.T, l *link, m *linkManager, _ chan error) {
				// A report is re-sent at each registration: on a new
				// connection each time, which must not start another.
				l.push(proto.Report{ID: "c1", State: proto.StateReady, Seq: 1})
				require.Eventually(t, func() bool { return m.count(proto.PathHeartbeat) >= 5 }, long, step)
				require.LessOrEqual(t, m.count(proto.PathRegister), m.count(proto.PathHeartbeat)+1)
			},
		},
		{
			name: "server errors are retried until the report is accepted",
			m: func() *linkManager {
				fails := 3
				return &linkManager{answer: func(path string, _ proto.Report) int {
					if path == proto.PathReport && fails > 0 {
						fails--
						return http.StatusServiceUnavailable
					}
					return http.StatusOK
				}}
			}(),
			check: func(t *testing.T, l *link, m *linkManager, _ chan error) {
				l.push(proto.Report{ID: "c1", State: proto.StateReady, Seq: 1})
				require.Eventually(t, func() bool { return len(m.delivered()) > 0 }, long, step)
				require.Equal(t, uint64(1), m.delivered()[0])
				require.GreaterOrEqual(t, m.count(proto.PathRegister), 4, "each failure starts a new session")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, aborted := startLink(t, tc.m)
			tc.check(t, l, tc.m, aborted)
		})
	}
}
