package daemon

import (
	"encoding/json"
	"fmt"
	"time"

	"cm/manager"
	"cm/manager/api"
)

// spec is what the daemon keeps about how a container was asked for.
type spec = api.CreateRequest

// entry is one container in the daemon's table.
type entry = manager.Entry[spec]

// record is a container's state.json: everything needed to bring it back
// after a restart.
type record struct {
	ID      string           `json:"id"`
	Name    string           `json:"name,omitempty"`
	Created time.Time        `json:"created"`
	Spec    spec             `json:"spec"`
	Status  manager.Snapshot `json:"status"`
}

func encodeRecord(e *entry, s *manager.Snapshot) ([]byte, error) {
	data, err := json.MarshalIndent(record{ID: e.ID, Name: e.Name, Created: e.Created, Spec: e.Spec, Status: *s}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode container %s: %w", e.ID, err)
	}
	return data, nil
}

func decodeRecord(data []byte) (*entry, error) {
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	if r.ID == "" {
		return nil, fmt.Errorf("no id")
	}
	if _, err := r.Status.State.MarshalText(); err != nil {
		return nil, fmt.Errorf("container %s: %w", r.ID, err)
	}
	return manager.NewEntry(r.ID, r.Name, r.Created, r.Spec, r.Status), nil
}

// view is the API's picture of a container at snapshot s.
func (d *Daemon) view(e *entry, s *manager.Snapshot) api.Container {
	c := api.Container{
		ID: e.ID, Name: e.Name, State: s.State,
		Pid: s.Pid, ExitCode: s.ExitCode, Signal: s.Signal, OOMKilled: s.OOMKilled, Error: s.Error,
		ShimPid:     s.ShimPid,
		Unconfirmed: e.Unconfirmed() && manager.Watched(s.State),
		Command:     e.Spec.Args,
		Bundle:      d.bundleDir(e.ID),
		Network:     d.networkView(e),
		Created:     e.Created, Changed: s.Changed, Version: s.Version,
	}
	describe(&c, e, s)
	return c
}
