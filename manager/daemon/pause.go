package daemon

import (
	"context"
	"errors"
	"math"
	"net/http"
	goruntime "runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"cm/manager"
	"cm/manager/api"
)

// This file is pause, resume and update: the client asks, the shim does
// it with the runtime (the cgroup freezer, the cgroup limits), and the
// shim's report of PAUSED or RUNNING is the transition.

// shimTuner is what a shim does besides the life cycle; the real shim
// client (api.Control) and the test fakes' clients have it.
type shimTuner interface {
	Pause(ctx context.Context) error
	Resume(ctx context.Context) error
	Update(ctx context.Context, resources any) error
}

// ErrNoTuning: the shim client cannot pause, resume or update (501).
var errNoTuning = errors.New("this shim cannot pause, resume or update")

func tuner(c ShimClient) (shimTuner, error) {
	t, ok := c.(shimTuner)
	if !ok {
		return nil, errNoTuning
	}
	return t, nil
}

// pause asks the shim to freeze the container; it answers once the shim
// has reported PAUSED.
func (d *Daemon) pause(ctx context.Context, e *entry) (*manager.Snapshot, error) {
	return d.freeze(ctx, e, manager.OpPause, manager.Running, func(ctx context.Context, t shimTuner) error { return t.Pause(ctx) })
}

// resume asks the shim to thaw the container; it answers once the shim
// has reported RUNNING.
func (d *Daemon) resume(ctx context.Context, e *entry) (*manager.Snapshot, error) {
	return d.freeze(ctx, e, manager.OpResume, manager.Paused, func(ctx context.Context, t shimTuner) error { return t.Resume(ctx) })
}

func (d *Daemon) freeze(ctx context.Context, e *entry, op manager.Op, from manager.State, call func(context.Context, shimTuner) error) (*manager.Snapshot, error) {
	s := e.Snap()
	if err := manager.CheckOp(e.ID, op, s.State); err != nil {
		return nil, err
	}
	err := d.exec.Do(ctx, func(ctx context.Context) error {
		return d.shimCall(ctx, e, s.Control, string(op), func(ctx context.Context, c ShimClient) error {
			t, err := tuner(c)
			if err != nil {
				return err
			}
			return call(ctx, t)
		})
	})
	if err != nil {
		return nil, err
	}
	return d.waitFor(ctx, e, func(s *manager.Snapshot) bool { return s.State != from })
}

// cpuPeriod is the CFS period --cpus is a quota of, as docker's.
const cpuPeriod = 100000

// cpuQuota is the CFS quota of cpus CPUs per cpuPeriod.
func cpuQuota(cpus float64) int64 { return int64(math.Round(cpus * cpuPeriod)) }

// update checks the new limits and restart policy, has the shim apply the
// limits, then records both, so inspect shows them and a restart keeps
// them.
func (d *Daemon) update(ctx context.Context, e *entry, req api.UpdateRequest) (*manager.Snapshot, error) {
	var restart string
	if req.Restart != nil {
		p, err := manager.ParseRestartPolicy(*req.Restart)
		if err != nil {
			return nil, badField("restart", "%v", err)
		}
		restart = p.String()
	}
	res, err := updateResources(req)
	if err != nil {
		return nil, err
	}
	s := e.Snap()
	if err := manager.CheckOp(e.ID, manager.OpUpdate, s.State); err != nil {
		return nil, err
	}
	if res != nil {
		err = d.callUpdate(ctx, e, s, res)
	}
	if err != nil {
		return nil, err
	}
	return d.change(e, manager.Client, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		f := *cur.Facts
		if restart != "" {
			f.RestartPolicy = restart
		}
		if res == nil {
			return cur.State, &f, nil
		}
		l := manager.Limits{Memory: e.Spec.Memory, Pids: e.Spec.Pids, CPUs: e.Spec.CPUs}
		if cur.Limits != nil {
			l = *cur.Limits
		}
		if req.Memory != nil {
			l.Memory = *req.Memory
		}
		if req.Pids != nil {
			l.Pids = *req.Pids
		}
		if req.CPUs != nil {
			l.CPUs = *req.CPUs
		}
		f.Limits = &l
		return cur.State, &f, nil
	})
}

// callUpdate has the shim apply new resources.
func (d *Daemon) callUpdate(ctx context.Context, e *entry, s *manager.Snapshot, res *specs.LinuxResources) error {
	err := d.exec.Do(ctx, func(ctx context.Context) error {
		return d.shimCall(ctx, e, s.Control, "update", func(ctx context.Context, c ShimClient) error {
			t, err := tuner(c)
			if err != nil {
				return err
			}
			return t.Update(ctx, res)
		})
	})
	var shimErr *api.Error
	if errors.As(err, &shimErr) && shimErr.Status == http.StatusBadRequest {
		// The runtime refused the limits: the request is what is wrong.
		return badField("update", "%s", shimErr.Message)
	}
	return err
}

// updateResources turns an update request into the linux.resources the
// runtime's update takes (nil: no limit changes), refusing values that
// make no limit.
func updateResources(req api.UpdateRequest) (*specs.LinuxResources, error) {
	var r specs.LinuxResources
	if req.Memory == nil && req.Pids == nil && req.CPUs == nil {
		if req.Restart != nil {
			return nil, nil
		}
		return nil, badField("update", "nothing to change: give memory, pids, cpus or restart")
	}
	if m := req.Memory; m != nil {
		if *m <= 0 {
			return nil, badField("memory", "%d: want a number of bytes > 0", *m)
		}
		r.Memory = &specs.LinuxMemory{Limit: m}
	}
	if p := req.Pids; p != nil {
		if *p <= 0 {
			return nil, badField("pids", "%d: want a number of processes > 0", *p)
		}
		r.Pids = &specs.LinuxPids{Limit: p}
	}
	if c := req.CPUs; c != nil {
		if math.IsNaN(*c) || *c <= 0 || *c > float64(goruntime.NumCPU()) {
			return nil, badField("cpus", "%v: want a number of CPUs > 0 and at most %d (this host's)", *c, goruntime.NumCPU())
		}
		quota := cpuQuota(*c)
		period := uint64(cpuPeriod)
		r.CPU = &specs.LinuxCPU{Quota: &quota, Period: &period}
	}
	return &r, nil
}

// withLimits is the spec a container is (re)created with: its create
// request with the limits of its last update.
func withLimits(sp spec, l *manager.Limits) spec {
	if l == nil {
		return sp
	}
	sp.Memory, sp.Pids, sp.CPUs = l.Memory, l.Pids, l.CPUs
	return sp
}

func (d *Daemon) handlePause(w http.ResponseWriter, r *http.Request) error {
	return d.handleTune(w, r, d.pause)
}

func (d *Daemon) handleResume(w http.ResponseWriter, r *http.Request) error {
	return d.handleTune(w, r, d.resume)
}

func (d *Daemon) handleTune(w http.ResponseWriter, r *http.Request, do func(context.Context, *entry) (*manager.Snapshot, error)) error {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	s, err := do(r.Context(), e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d.view(e, s))
	return nil
}

func (d *Daemon) handleUpdate(w http.ResponseWriter, r *http.Request) error {
	var req api.UpdateRequest
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	e, err := d.lookup(r.PathValue("id"))
	if err != nil {
		return err
	}
	s, err := d.update(r.Context(), e, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d.view(e, s))
	return nil
}
