package daemon

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"cm/manager"
	"cm/manager/api"
	"cm/shim/proto"
)

// clientRoutes is the client API; package api documents it.
func (d *Daemon) clientRoutes() http.Handler {
	mux := http.NewServeMux()
	d.route(mux, "/v1/containers", map[string]handlerFunc{"GET": d.handleList, "POST": d.handleCreate})
	d.route(mux, "/v1/containers/{id}", map[string]handlerFunc{"GET": d.handleGet, "DELETE": d.handleDelete})
	d.route(mux, "/v1/containers/{id}/start", map[string]handlerFunc{"POST": d.handleStart})
	d.route(mux, "/v1/containers/{id}/stop", map[string]handlerFunc{"POST": d.handleStop})
	d.route(mux, "/v1/containers/{id}/kill", map[string]handlerFunc{"POST": d.handleKill})
	d.route(mux, "/v1/containers/{id}/pause", map[string]handlerFunc{"POST": d.handlePause})
	d.route(mux, "/v1/containers/{id}/resume", map[string]handlerFunc{"POST": d.handleResume})
	d.route(mux, "/v1/containers/{id}/update", map[string]handlerFunc{"POST": d.handleUpdate})
	d.route(mux, "/v1/containers/{id}/wait", map[string]handlerFunc{"GET": d.handleWait})
	d.route(mux, "/v1/containers/{id}/logs", map[string]handlerFunc{"GET": d.handleLogs})
	d.route(mux, "/v1/containers/{id}/stats", map[string]handlerFunc{"GET": d.handleStats})
	d.route(mux, "/metrics", map[string]handlerFunc{"GET": d.handleMetrics})
	d.route(mux, "/v1/containers/{id}/exec", map[string]handlerFunc{"POST": d.handleExec})
	d.route(mux, "/v1/events", map[string]handlerFunc{"GET": d.handleEvents})
	d.route(mux, "/v1/info", map[string]handlerFunc{"GET": d.handleInfo})
	mux.HandleFunc("/", notFound)
	return d.guard(mux)
}

// shimRoutes is the shim API; only root or the daemon's uid may call it,
// and each container's messages only its shim (see authShim).
func (d *Daemon) shimRoutes() http.Handler {
	mux := http.NewServeMux()
	d.route(mux, proto.PathRegister, map[string]handlerFunc{"POST": d.handleRegister})
	d.route(mux, proto.PathReport, map[string]handlerFunc{"POST": d.handleReport})
	d.route(mux, proto.PathHeartbeat, map[string]handlerFunc{"POST": d.handleHeartbeat})
	mux.HandleFunc("/", notFound)
	return d.guard(checkPeer(mux))
}

func (d *Daemon) handleCreate(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateRequest
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	e, created, err := d.create(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, d.view(e, created))
	return nil
}

func (d *Daemon) handleList(w http.ResponseWriter, r *http.Request) error {
	states, err := statesParam(r)
	if err != nil {
		return err
	}
	filters, err := parseFilters(r)
	if err != nil {
		return err
	}
	var views [][]byte
	for _, e := range d.table.List() {
		s := e.Snap()
		if !s.Deleting && (len(states) == 0 || slices.Contains(states, s.State)) && matchAll(filters, e, s) {
			v, err := d.listJSON(e, s)
			if err != nil {
				return err
			}
			views = append(views, v)
		}
	}
	d.writeList(w, views)
	return nil
}

func (d *Daemon) handleGet(w http.ResponseWriter, r *http.Request) error {
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d.view(e, e.Snap()))
	return nil
}

func (d *Daemon) handleDelete(w http.ResponseWriter, r *http.Request) error {
	force, err := boolParam(r, "force")
	if err != nil {
		return err
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	s, err := d.remove(r.Context(), e, force)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d.view(e, s))
	return nil
}

func (d *Daemon) handleStart(w http.ResponseWriter, r *http.Request) error {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	s, err := d.start(r.Context(), e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d.view(e, s))
	return nil
}

func (d *Daemon) handleStop(w http.ResponseWriter, r *http.Request) error {
	var req api.StopRequest
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	s, err := d.stop(r.Context(), e, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, d.view(e, s))
	return nil
}

func (d *Daemon) handleKill(w http.ResponseWriter, r *http.Request) error {
	var req api.KillRequest
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	s, err := d.kill(r.Context(), e, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d.view(e, s))
	return nil
}

func (d *Daemon) handleWait(w http.ResponseWriter, r *http.Request) error {
	states, err := statesParam(r)
	if err != nil {
		return err
	}
	if len(states) == 0 {
		states = []manager.State{manager.Dead, manager.Lost}
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	s, err := d.waitFor(r.Context(), e, func(s *manager.Snapshot) bool {
		// DEAD is final unless a restart policy brings it back.
		return slices.Contains(states, s.State) || manager.Terminal(s.State) && !wantsRestart(e, s)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d.view(e, s))
	return nil
}

// handleEvents streams NDJSON until the client goes away or the daemon stops.
func (d *Daemon) handleEvents(w http.ResponseWriter, r *http.Request) error {
	sub := d.bus.SubscribeNew()
	if v := r.URL.Query().Get("since"); v != "" {
		since, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return badField("since", "%q: want a sequence number", v)
		}
		sub = d.bus.Subscribe(since)
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	for {
		evs, err := sub.Next(r.Context())
		if err != nil {
			return nil // the client left, or the daemon is stopping
		}
		for _, ev := range evs {
			if err := enc.Encode(ev); err != nil {
				return nil
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

func (d *Daemon) handleInfo(w http.ResponseWriter, r *http.Request) error {
	info := api.Info{
		Version: d.cfg.Version, StateDir: d.store.Dir(), Boot: d.boot, Started: d.started,
		States: map[string]int{}, LastEvent: d.bus.Last(),
	}
	for _, s := range manager.States() {
		info.States[s.String()] = 0
	}
	for _, e := range d.table.List() {
		info.States[e.Snap().State.String()]++
		info.Containers++
	}
	st := d.exec.Stats()
	info.Workers, info.Busy, info.QueueDepth, info.QueueCapacity = st.Workers, st.Busy, st.QueueDepth, st.QueueCapacity
	writeJSON(w, http.StatusOK, info)
	return nil
}

func (d *Daemon) handleRegister(w http.ResponseWriter, r *http.Request) error {
	var req registerBody
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if err := d.authShim(r, req.ID, req.Pid); err != nil {
		return err
	}
	resp, err := d.register(req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (d *Daemon) handleReport(w http.ResponseWriter, r *http.Request) error {
	var req reportBody
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if err := d.authShim(r, req.ID, 0); err != nil {
		return err
	}
	if err := d.report(req); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (d *Daemon) handleHeartbeat(w http.ResponseWriter, r *http.Request) error {
	var req proto.Heartbeat
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if err := d.authShim(r, req.ID, 0); err != nil {
		return err
	}
	reply, err := d.heartbeat(req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reply)
	return nil
}
