package daemon

import (
	"net/http"
	"strings"

	"cm/manager"
	"cm/manager/api"
)

// This file is labels and the list's filters, which podman's ps has:
// every filter must match (they AND together).

// Limits of labels, so a record stays small.
const (
	maxLabels     = 64
	maxLabelBytes = 4096 // of one key plus its value
)

// checkLabels refuses labels a filter could not name: an empty key, or
// one with "=" (label=k=v splits at the first "=").
func checkLabels(labels map[string]string) error {
	if len(labels) > maxLabels {
		return badField("labels", "%d labels: at most %d", len(labels), maxLabels)
	}
	for k, v := range labels {
		switch {
		case k == "":
			return badField("labels", "a label needs a key (key=value)")
		case strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0):
			return badField("labels", "key %q: no '=' or NUL in a key, no NUL in a value", k)
		case len(k)+len(v) > maxLabelBytes:
			return badField("labels", "label %q: at most %d bytes of key and value", k, maxLabelBytes)
		}
	}
	return nil
}

// checkPolicy refuses a restart policy that does not parse.
func checkPolicy(req *api.CreateRequest) error {
	if _, err := manager.ParseRestartPolicy(req.Restart); err != nil {
		return badField("restart", "%v", err)
	}
	return nil
}

// filter is one condition of GET /v1/containers?filter=KEY=VALUE.
type filter func(e *entry, s *manager.Snapshot) bool

// filterKeys are the filters the list knows, as podman ps names them.
var filterKeys = "state, label, name, id"

// parseFilters reads every filter=KEY=VALUE of the request.
func parseFilters(r *http.Request) ([]filter, error) {
	var out []filter
	for _, f := range r.URL.Query()["filter"] {
		key, value, ok := strings.Cut(f, "=")
		if !ok || value == "" {
			return nil, badField("filter", "%q: want KEY=VALUE (keys: %s)", f, filterKeys)
		}
		switch key {
		case "state":
			st, err := manager.ParseState(value)
			if err != nil {
				return nil, badField("filter", "%v", err)
			}
			out = append(out, func(_ *entry, s *manager.Snapshot) bool { return s.State == st })
		case "label":
			k, v, withValue := strings.Cut(value, "=")
			out = append(out, func(e *entry, _ *manager.Snapshot) bool {
				got, has := e.Spec.Labels[k]
				return has && (!withValue || got == v)
			})
		case "name":
			out = append(out, func(e *entry, _ *manager.Snapshot) bool { return e.Name == value })
		case "id":
			out = append(out, func(e *entry, _ *manager.Snapshot) bool { return strings.HasPrefix(e.ID, value) })
		default:
			return nil, badField("filter", "unknown filter %q (keys: %s)", key, filterKeys)
		}
	}
	return out, nil
}

// matchAll reports whether every filter matches.
func matchAll(filters []filter, e *entry, s *manager.Snapshot) bool {
	for _, f := range filters {
		if !f(e, s) {
			return false
		}
	}
	return true
}

// describe is what view adds about policies, labels and limits.
func describe(c *api.Container, e *entry, s *manager.Snapshot) {
	c.Restart = policy(e, s).String()
	c.RestartCount = s.RestartCount
	c.Labels = e.Spec.Labels
	c.Memory, c.Pids, c.CPUs = e.Spec.Memory, e.Spec.Pids, e.Spec.CPUs
	if l := s.Limits; l != nil {
		c.Memory, c.Pids, c.CPUs = l.Memory, l.Pids, l.CPUs
	}
}
