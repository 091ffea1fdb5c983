package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"cm/manager"
	"cm/manager/events"
	"cm/manager/store"
)

// Daemon is a running cmanagerd.
type Daemon struct {
	cfg      Config
	log      *slog.Logger
	store    *store.Store
	table    manager.Table[spec]
	bus      *events.Bus
	exec     *Executor
	watchdog *Watchdog
	boot     uint64
	started  time.Time
	shimKey  []byte // makes each container's shim token (shimauth.go)
	metrics  *metrics

	nets  sync.Map // container id → *api.NetworkStatus, once known (network.go)
	lists sync.Map // *entry → *listEntry, its view as JSON (list_cache.go)

	clientSock, shimSock *socket
	clientSrv, shimSrv   *http.Server

	requests       context.Context // every request's context: ended at shutdown
	cancelRequests context.CancelFunc
	draining       atomic.Bool
	inflight       sync.RWMutex // read-held by every request; shutdown takes it to wait for them
	execSessions   atomic.Int64 // open exec sessions: their connections are out of the socket's cap (exec.go)

	unrecorded unrecordedChanges // changes refused because they could not be written

	relaunchMu sync.Mutex
	relaunches map[string]int // per container id: launches by relaunchSilent

	restarting sync.Map // id → chan struct{} closed when its relaunch is done (restart.go)

	// unprepared are containers reloaded in CREATING whose preparation
	// never began before the daemon went down; Run queues it again.
	unprepared []*entry
}

// New opens the state directory, reloads every container in it and
// listens on both sockets. Call Run to serve.
func New(cfg Config) (d *Daemon, err error) {
	cfg.setDefaults()
	if cfg.Launcher == nil {
		return nil, errors.New("daemon: no shim launcher configured")
	}
	st, err := store.Open(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	boot, err := st.NextBoot()
	if err != nil {
		return nil, err
	}
	d = &Daemon{
		cfg: cfg, log: cfg.Log, store: st, boot: boot, started: time.Now(),
		// Sequence numbers keep growing across restarts without a disk
		// write per event: the boot count is their high bits.
		bus:  events.New(cfg.EventRing, boot<<40+1),
		exec: NewExecutor(cfg.Workers, cfg.QueueSize),
	}
	if d.shimKey, err = loadShimKey(st.Dir()); err != nil {
		return nil, err
	}
	d.metrics = newMetrics(d)
	d.watchdog = &Watchdog{table: &d.table, interval: watchInterval(cfg.HeartbeatTTL), markLost: d.markLost}
	if err := d.reload(); err != nil {
		return nil, err
	}
	d.requests, d.cancelRequests = context.WithCancel(context.Background())
	if err := d.listenMetrics(); err != nil {
		d.cancelRequests()
		return nil, err
	}
	if err := d.listen(); err != nil {
		d.closeMetrics()
		d.cancelRequests()
		return nil, err
	}
	return d, nil
}

// watchInterval: the watchdog looks four times per TTL, so a silent shim
// is LOST at most a quarter TTL late.
func watchInterval(ttl time.Duration) time.Duration { return max(ttl/4, time.Millisecond) }

// reload brings back every container on disk. Those that were alive are
// unconfirmed: their shims have the restart grace period to speak up, or
// the watchdog marks them LOST. A container still CREATING whose shim lock
// is free had its create acknowledged, but no shim of it exists or ever
// will: it is prepared again instead of waiting for a shim that will never
// speak. A record that cannot be read is quarantined (see quarantine), so
// one damaged file never stops the daemon.
func (d *Daemon) reload() error {
	if w := d.store.Warning(); w != "" {
		d.log.Error("state directory damaged", "problem", w)
	}
	recs, err := d.store.Load()
	if err != nil {
		return err
	}
	graceEnd := time.Now().Add(d.cfg.RestartGrace)
	quarantined := 0
	for _, r := range recs {
		e, err := loadRecord(r)
		if err != nil {
			e = d.quarantine(r.ID, err)
			quarantined++
		}
		if err := d.table.Add(e); err != nil {
			e = d.quarantine(r.ID, err)
			if err := d.table.Add(e); err != nil {
				return fmt.Errorf("reload container %s: %w", r.ID, err)
			}
			quarantined++
		}
		switch st := e.Snap().State; {
		case st == manager.Creating && !d.shimAlive(e):
			d.unprepared = append(d.unprepared, e)
		case manager.Watched(st):
			e.Expect(graceEnd, true)
		}
	}
	d.log.Info("reloaded containers", "count", len(recs), "unprepared", len(d.unprepared), "quarantined", quarantined, "boot", d.boot)
	return nil
}

// loadRecord decodes one stored record.
func loadRecord(r store.Record) (*entry, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	e, err := decodeRecord(r.Data)
	if err != nil {
		return nil, fmt.Errorf("%s/state.json is damaged: %w", r.ID, err)
	}
	if e.ID != r.ID {
		return nil, fmt.Errorf("%s/state.json is damaged: it says it is container %s", r.ID, e.ID)
	}
	return e, nil
}

// quarantine stands in for a container whose record cannot be used: the
// damaged state.json is kept as state.json.damaged, and the container is
// reported LOST with the reason, its command read back from its bundle.
// Its directory (bundle, logs) stays. If its shim is alive, it registers
// and adopts the container as for any LOST one; if not, rm removes what is
// left. The rebuilt record is written so that the next start sees it too.
func (d *Daemon) quarantine(id string, cause error) *entry {
	dir := d.store.ContainerDir(id)
	reason := cause.Error()
	if !errors.Is(cause, store.ErrNoRecord) {
		if err := os.Rename(filepath.Join(dir, "state.json"), filepath.Join(dir, "state.json.damaged")); err == nil {
			reason += "; kept as state.json.damaged"
		}
	}
	var req spec
	created := time.Now()
	if data, err := os.ReadFile(filepath.Join(dir, "bundle", "config.json")); err == nil {
		var cfg struct{ Process struct{ Args []string } }
		if json.Unmarshal(data, &cfg) == nil {
			req.Args = cfg.Process.Args
		}
		if fi, err := os.Stat(filepath.Join(dir, "bundle", "config.json")); err == nil {
			created = fi.ModTime()
		}
	}
	reason = "record lost (" + reason + "): the container's name and spec are gone; its shim, if alive, adopts it"
	e := manager.NewEntry(id, "", created, req, manager.Snapshot{State: manager.Lost, Version: 1,
		Facts: &manager.Facts{Error: reason, Changed: time.Now()}})
	d.log.Error("container record unusable: container quarantined as LOST", "id", id, "err", cause, "dir", dir)
	data, err := encodeRecord(e, e.Snap())
	if err == nil {
		err = d.store.Save(id, data)
	}
	if err != nil {
		d.log.Error("cannot write the quarantined container's record", "id", id, "err", err)
	}
	return e
}

func (d *Daemon) listen() error {
	gid := -1
	mode := os.FileMode(0o600)
	if d.cfg.SocketGroup != "" {
		var err error
		if gid, err = lookupGroup(d.cfg.SocketGroup); err != nil {
			return err
		}
		mode = 0o660
	}
	var err error
	if d.clientSock, err = listenSocket(d.cfg.Socket, mode, gid); err != nil {
		return err
	}
	// Shims run as root: their socket is never opened to a group.
	if d.shimSock, err = listenSocket(d.cfg.ShimSocket, 0o600, -1); err != nil {
		d.clientSock.close()
		return err
	}
	base := func(net.Listener) context.Context { return d.requests }
	// Slow or idle peers are cut off and the connections capped (see
	// bodyDeadline and connLimit). No ReadTimeout or WriteTimeout: those
	// would end the streamed answers (events, logs --follow, wait).
	clientLim := newConnLimit(d.clientSock.l, d.cfg.MaxConns, d.clientSock.path, d.log)
	d.clientSock.accept = clientLim
	d.clientSrv = &http.Server{
		Handler: bodyDeadline(d.cfg.ReadTimeout, d.clientRoutes()), BaseContext: base, ConnState: clientLim.track,
		ReadHeaderTimeout: d.cfg.ReadTimeout, IdleTimeout: d.cfg.IdleTimeout,
	}
	// A shim keeps its connection between heartbeats; closing it would
	// make the shim register again.
	shimLim := newConnLimit(d.shimSock.l, d.cfg.MaxShimConns, d.shimSock.path, d.log)
	d.shimSock.accept = shimLim
	d.shimSrv = &http.Server{
		Handler: bodyDeadline(d.cfg.ReadTimeout, d.shimRoutes()), BaseContext: base, ConnContext: peerContext, ConnState: shimLim.track,
		ReadHeaderTimeout: d.cfg.ReadTimeout, IdleTimeout: max(d.cfg.IdleTimeout, 4*d.maxBeatInterval()),
	}
	return nil
}

// Run serves until ctx ends, then shuts down: requests arriving meanwhile
// get 503, streams end, queued work is abandoned (what it was for is on
// disk, and the next daemon resumes it), the sockets are removed.
func (d *Daemon) Run(ctx context.Context) error {
	d.exec.Start()
	d.resumeRestarts()
	watchCtx, stopWatchdog := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.watchdog.Run(watchCtx) })
	// Stops that were under way when the daemon went down still end in SIGKILL.
	for _, e := range d.table.List() {
		if s := e.Snap(); s.State == manager.Stopping && !s.StopDeadline.IsZero() {
			d.killAfter(e, s.StopDeadline)
		}
	}

	errc := make(chan error, 3)
	serve := func(srv *http.Server, s *socket) {
		if err := srv.Serve(s.accept); !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("serve %s: %w", s.path, err)
		}
	}
	go serve(d.clientSrv, d.clientSock)
	go serve(d.shimSrv, d.shimSock)
	d.serveMetrics(errc)
	// Queued once the shim socket serves, so the shims they launch can
	// register at once; a full queue must not hold up serving either.
	unprepared := d.unprepared
	d.unprepared = nil
	go func() {
		for _, e := range unprepared {
			if err := d.exec.Submit(d.requests, func(ctx context.Context) { d.prepare(ctx, e, true) }); err != nil {
				d.log.Warn("container not prepared; it is prepared at the next start", "id", e.ID, "err", err)
			}
		}
	}()
	d.log.Info("cmanagerd serving", "socket", d.cfg.Socket, "shim-socket", d.cfg.ShimSocket, "state-dir", d.store.Dir())

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	d.log.Info("cmanagerd shutting down")
	// New requests get 503; streams and waits end with their context; the
	// requests under way finish (what they acknowledge is on disk). Only
	// then are the servers closed, with whatever idle connections remain.
	d.draining.Store(true)
	d.cancelRequests()
	d.exec.Cancel() // queued jobs give up: shutdown is bounded by the jobs under way
	d.inflight.Lock()
	d.inflight.Unlock()
	d.clientSrv.Close()
	d.shimSrv.Close()
	d.closeMetrics()
	stopWatchdog()
	wg.Wait()
	d.exec.Stop()
	d.clientSock.close()
	d.shimSock.close()
	d.store.Close()
	return err
}

func (d *Daemon) bundleDir(id string) string {
	return filepath.Join(d.store.ContainerDir(id), "bundle")
}
