package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"

	"cm/manager"
	"cm/manager/api"
)

// A list is what cmctl ps asks for, and at thousands of containers
// encoding every one of them again on every list is most of its time.
// So each container's list entry is kept as JSON next to what it was made
// from; a list copies bytes, and encodes only the containers that changed.

// listKey is everything a container's view is made of that can change:
// its snapshot (a new one for every change of status), whether its shim
// has spoken since a restart, and its network setup once known. The rest
// (id, name, spec, creation time) never changes.
type listKey struct {
	snap        *manager.Snapshot
	unconfirmed bool
	network     *api.NetworkStatus
}

type listEntry struct {
	key  listKey
	json []byte
}

// listJSON is container e's view in status s as JSON, from the cache when
// nothing in it changed.
func (d *Daemon) listJSON(e *entry, s *manager.Snapshot) ([]byte, error) {
	key := listKey{snap: s, unconfirmed: e.Unconfirmed()}
	cacheable := true
	if ownNetwork(e.Spec.Network) {
		st, ok := d.nets.Load(e.ID)
		if ok {
			key.network = st.(*api.NetworkStatus)
		}
		cacheable = ok // not yet known: looked up again next time
	}
	if v, ok := d.lists.Load(e); ok {
		if cached := v.(*listEntry); cached.key == key {
			return cached.json, nil
		}
	}
	data, err := json.Marshal(d.view(e, s))
	if err != nil {
		return nil, fmt.Errorf("encode container %s: %w", e.ID, err)
	}
	if cacheable {
		d.lists.Store(e, &listEntry{key, data})
	}
	return data, nil
}

// forgetListEntry drops a removed container's cached view.
func (d *Daemon) forgetListEntry(e *entry) { d.lists.Delete(e) }

// writeList answers a list: a JSON array of the views, as writeJSON
// would have encoded them.
func (d *Daemon) writeList(w http.ResponseWriter, views [][]byte) {
	size := 2
	for _, v := range views {
		size += len(v) + 1
	}
	out := make([]byte, 0, size)
	out = append(out, '[')
	for i, v := range views {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, v...)
	}
	out = append(out, "]\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}
