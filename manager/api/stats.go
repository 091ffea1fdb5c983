package api

import (
	"context"
	"net/http"
	"time"
)

// Stats is what one container uses, read from its cgroup (and, for the
// network, from its network namespace) at Read. The counters only grow
// while the container runs: a rate, such as CPU %, is the difference of
// two reads divided by the difference of their Read times.
type Stats struct {
	ID   string    `json:"id"`
	Name string    `json:"name,omitempty"`
	Read time.Time `json:"read"`

	CPU     CPUStats     `json:"cpu"`
	Memory  MemoryStats  `json:"memory"`
	Pids    PidsStats    `json:"pids"`
	BlockIO BlockIOStats `json:"blockIO"`
	// Net is nil when the container has no network namespace of its own
	// (its traffic is the host's) or only a loopback interface.
	Net *NetStats `json:"net,omitempty"`
}

// CPUStats are CPU time used since the container was created, summed
// over every CPU, in nanoseconds.
type CPUStats struct {
	UsageNanos  uint64 `json:"usageNanos"`
	UserNanos   uint64 `json:"userNanos"`
	SystemNanos uint64 `json:"systemNanos"`
	// OnlineCPUs is how many CPUs the host has online: CPU % can reach
	// 100 times that.
	OnlineCPUs int `json:"onlineCPUs"`
}

// MemoryStats are in bytes.
type MemoryStats struct {
	// Usage is the cgroup's memory.current (v2) or memory.usage_in_bytes
	// (v1): anonymous memory, page cache and tmpfs included.
	Usage uint64 `json:"usage"`
	// Limit is the cgroup's limit, or the host's memory when it has none
	// (as podman reports it).
	Limit uint64 `json:"limit"`
	Cache uint64 `json:"cache"` // page cache and tmpfs, part of Usage
}

// PidsStats count tasks (threads included); Limit 0 means no limit.
type PidsStats struct {
	Current uint64 `json:"current"`
	Limit   uint64 `json:"limit"`
}

// BlockIOStats sum every block device, in bytes.
type BlockIOStats struct {
	ReadBytes  uint64 `json:"readBytes"`
	WriteBytes uint64 `json:"writeBytes"`
}

// NetStats sum every interface of the container but the loopback, in bytes.
type NetStats struct {
	RxBytes uint64 `json:"rxBytes"`
	TxBytes uint64 `json:"txBytes"`
}

// Stats reads what a RUNNING container uses.
func (c *Client) Stats(ctx context.Context, ref string) (Stats, error) {
	var out Stats
	return out, c.Do(ctx, http.MethodGet, containerPath(ref, "/stats"), nil, &out)
}

// Metrics returns the daemon's metrics in the Prometheus text format.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	status, body, err := c.Raw(ctx, http.MethodGet, "/metrics", nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &Error{Status: status, Message: "GET /metrics: " + http.StatusText(status)}
	}
	return body, nil
}
