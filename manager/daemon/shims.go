package daemon

import (
	"cmp"
	"fmt"
	"path/filepath"
	"time"

	"cm/manager"
	"cm/shim/proto"
)

// This file holds what shims tell the daemon. Every message proves the
// shim alive, so it moves the watchdog's deadline first.

// registerBody and reportBody are the messages of package proto as the
// daemon reads them: the state as a manager.State, whose decoding refuses
// a name that is no state (400), and takes any case.
type (
	registerBody struct {
		proto.Register
		State manager.State `json:"state"`
	}
	reportBody struct {
		proto.Report
		State manager.State `json:"state"`
	}
)

// shimEntry finds the container a shim speaks for and moves its deadline.
// When the answer tells the shim a heartbeat interval (tell), it is the
// current one, returned as interval; the deadline then allows for both
// the interval told before and this one (see silenceAllowed).
func (d *Daemon) shimEntry(id string, tell bool) (e *entry, interval time.Duration, err error) {
	if id == "" {
		return nil, 0, badField("id", "required")
	}
	e = d.table.GetID(id)
	if e == nil || e.Snap().Deleting {
		return nil, 0, ErrUnknownContainer
	}
	now := time.Now()
	before := e.Told()
	interval = before
	if tell || before == 0 {
		interval = d.beatInterval()
	}
	if tell {
		e.Tell(interval)
	}
	// What the shim was beating at until now: counted by the metrics.
	beating := cmp.Or(before, interval)
	d.metrics.heard(e, now, d.beatTTL(beating), beating)
	e.Heard(now.Add(silenceAllowed(before, interval, d.cfg.HeartbeatInterval, d.cfg.HeartbeatTTL)))
	return e, interval, nil
}

func checkReported(s manager.State) error {
	switch s {
	case manager.Ready, manager.Running, manager.Dead, manager.Paused:
		return nil
	case 0:
		return badField("state", "required: READY, RUNNING or DEAD")
	}
	return badField("state", "%s: a shim reports READY, RUNNING or DEAD", s)
}

// arrive works out where a shim's word `reported` takes the container, and
// records the exit status when it is the news of its death.
func arrive(cur *manager.Snapshot, f *manager.Facts, reported manager.State, exit proto.ExitStatus) manager.State {
	to := manager.Reported(cur.State, cur.LostFrom, reported)
	if to == manager.Dead && cur.State != manager.Dead {
		f.ExitCode, f.Signal, f.OOMKilled = exit.ExitCode, exit.Signal, exit.OOMKilled
	}
	if cur.State == manager.Lost && to != manager.Lost {
		// Adopted: why it was lost (a quarantined record) no longer holds,
		// and a later exit must not read as "never ran".
		f.LostFrom, f.Error = 0, ""
	}
	noteArrival(cur, f, to)
	return to
}

// controlSocket is where the shim of container id listens: in the state
// directory the daemon gave it, under the name of the shim protocol. The
// daemon derives it rather than trusting a registration to name it.
func (d *Daemon) controlSocket(id string) string {
	return filepath.Join(d.store.ContainerDir(id), proto.ControlSocket)
}

// register records a shim's pid and control socket and where it says its
// container is. It also adopts containers reloaded after a restart.
func (d *Daemon) register(req registerBody) (proto.RegisterReply, error) {
	if err := checkReported(req.State); err != nil {
		return proto.RegisterReply{}, err
	}
	// An unknown container first: that answer makes the shim abort.
	e, interval, err := d.shimEntry(req.ID, true)
	if err != nil {
		return proto.RegisterReply{}, err
	}
	switch {
	case req.Pid <= 0:
		return proto.RegisterReply{}, badField("pid", "required: the shim's pid")
	case req.Control != d.controlSocket(req.ID):
		return proto.RegisterReply{}, badField("control", "%q: the shim of container %s listens on %s", req.Control, req.ID, d.controlSocket(req.ID))
	}
	var exit proto.ExitStatus
	if req.Exit != nil {
		exit = *req.Exit
	}
	_, err = d.change(e, manager.Shim, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		f := *cur.Facts
		f.ShimPid, f.Control = req.Pid, d.controlSocket(req.ID)
		if req.ContainerPid > 0 {
			f.Pid = req.ContainerPid
		}
		if req.Seq > f.ReportSeq {
			// The registration says what that report says.
			f.ReportSeq = req.Seq
		}
		return arrive(cur, &f, req.State, exit), &f, nil
	})
	if err != nil {
		return proto.RegisterReply{}, err
	}
	return proto.RegisterReply{HeartbeatInterval: proto.Interval(interval)}, nil
}

// report applies a shim's state change. Reports are idempotent: one whose
// Seq was already applied changes nothing and is answered 200 once what it
// said is on disk.
func (d *Daemon) report(r reportBody) error {
	if err := checkReported(r.State); err != nil {
		return err
	}
	e, _, err := d.shimEntry(r.ID, false)
	if err != nil {
		return err
	}
	_, err = d.change(e, manager.Shim, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		if r.Seq != 0 && r.Seq <= cur.ReportSeq {
			return cur.State, cur.Facts, nil
		}
		f := *cur.Facts
		if r.Seq != 0 {
			f.ReportSeq = r.Seq
		}
		if r.Pid != 0 {
			f.Pid = r.Pid
		}
		return arrive(cur, &f, r.State, r.ExitStatus), &f, nil
	})
	return err
}

// heartbeat keeps the watchdog away and answers with the interval the
// shim is to beat at; a LOST container whose shim is heard again goes
// back to where it was when it was lost, if the table allows. A shim
// that does not say its interval ignores the answer: it is told nothing
// new, so its deadline stays that of the interval of its registration.
func (d *Daemon) heartbeat(h proto.Heartbeat) (proto.HeartbeatReply, error) {
	e, interval, err := d.shimEntry(h.ID, h.Interval > 0)
	if err != nil {
		return proto.HeartbeatReply{}, err
	}
	d.metrics.heartbeats.Inc()
	reply := proto.HeartbeatReply{HeartbeatInterval: proto.Interval(interval)}
	s := e.Snap()
	if s.State == manager.Lost && s.LostFrom == 0 {
		// Quarantined: only a registration says where the container is.
		return proto.HeartbeatReply{}, fmt.Errorf("container %s: its record was lost, register again: %w", e.ID, ErrNoShim)
	}
	if s.State != manager.Lost || !manager.Allowed(manager.Lost, s.LostFrom, manager.Shim) {
		return reply, nil
	}
	_, err = d.change(e, manager.Shim, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		if cur.State != manager.Lost || !manager.Allowed(manager.Lost, cur.LostFrom, manager.Shim) {
			return cur.State, cur.Facts, nil
		}
		f := *cur.Facts
		f.LostFrom = 0
		return cur.LostFrom, &f, nil
	})
	if err != nil {
		return proto.HeartbeatReply{}, err
	}
	return reply, nil
}

// markLost is the watchdog's transition; it checks the deadline again, as
// the shim may have spoken since the watchdog looked.
func (d *Daemon) markLost(e *entry, now time.Time) error {
	if d.relaunchSilent(e) {
		return nil
	}
	marked := false
	_, err := d.change(e, manager.Watchdog, func(cur *manager.Snapshot) (manager.State, *manager.Facts, error) {
		deadline, ok := e.Deadline()
		marked = manager.Watched(cur.State) && ok && !now.Before(deadline)
		if !marked {
			return cur.State, cur.Facts, nil
		}
		f := *cur.Facts
		f.LostFrom = cur.State
		return manager.Lost, &f, nil
	})
	if err != nil {
		return fmt.Errorf("mark %s lost: %w", e.ID, err)
	}
	if marked {
		d.log.Warn("shim silent: container LOST", "id", e.ID)
	}
	return nil
}
