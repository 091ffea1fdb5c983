package shim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"cm/shim/proto"
)

// writeStatus saves the latest report as status.json. A temporary file
// and a rename make it atomic: a reader sees the old report or the new
// one, never a mix. Only an exit is fsynced: a power loss kills the
// container and its shim, after which READY or RUNNING is no longer true
// anyway, while an exit status the manager has not heard yet must still
// be there.
func writeStatus(path string, r proto.Report) error {
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	_, err = f.Write(data)
	if err == nil && r.State == proto.StateDead {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write status %s: %w", path, err)
	}
	return nil
}

// ReadStatus reads a shim's status.json: the latest state it reported
// (or tried to), with the exit status once the container is DEAD.
func ReadStatus(stateDir string) (proto.Report, error) {
	var r proto.Report
	data, err := os.ReadFile(filepath.Join(stateDir, StatusFile))
	if err != nil {
		return r, fmt.Errorf("read shim status: %w", err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("shim status %s is corrupt: %w", stateDir, err)
	}
	return r, nil
}
