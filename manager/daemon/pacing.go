package daemon

import (
	"time"
)

// This file paces the shims' heartbeats. The interval the daemon tells
// shims grows with the containers it watches, so that all their shims
// together send at most Config.HeartbeatBudget heartbeats a second, and
// the watchdog gives each shim the TTL of the interval it was last told.

// pacedInterval is the heartbeat interval for watched containers: base,
// stretched so that as many shims beating at it send at most budget
// heartbeats a second. A budget of 0 (or less) keeps base.
func pacedInterval(base time.Duration, watched, budget int) time.Duration {
	if budget <= 0 || watched <= 0 {
		return base
	}
	return max(base, time.Duration(watched)*time.Second/time.Duration(budget))
}

// scaledTTL is the silence allowed a shim beating every interval: ttl is
// to base (the configured TTL and interval) what the result is to
// interval, so "3 intervals" stays 3 intervals.
func scaledTTL(interval, base, ttl time.Duration) time.Duration {
	if interval == base || base <= 0 {
		return ttl
	}
	return time.Duration(float64(ttl) * (float64(interval) / float64(base)))
}

// silenceAllowed is how long the watchdog waits for the next word of a
// shim that was told before (0: nothing yet) and has just been told now:
// the TTL of the longer, since a shim told a shorter interval may still
// be waiting out its longer tick when the answer arrives.
func silenceAllowed(before, now, base, ttl time.Duration) time.Duration {
	return scaledTTL(max(before, now), base, ttl)
}

// beatInterval is the interval shims are told now. The table's size
// counts every container, one load: a shim of a DEAD container beats too.
func (d *Daemon) beatInterval() time.Duration {
	return pacedInterval(d.cfg.HeartbeatInterval, d.table.Len(), d.cfg.HeartbeatBudget)
}

// beatTTL is the silence allowed a shim beating every interval.
func (d *Daemon) beatTTL(interval time.Duration) time.Duration {
	return scaledTTL(interval, d.cfg.HeartbeatInterval, d.cfg.HeartbeatTTL)
}

// expectTTL is the silence allowed a shim just launched, before it is
// told anything: the TTL of the interval it will be told.
func (d *Daemon) expectTTL() time.Duration { return d.beatTTL(d.beatInterval()) }

// maxBeatInterval is the longest interval shims can be told: the one of
// as many containers as the shim socket takes connections.
func (d *Daemon) maxBeatInterval() time.Duration {
	return pacedInterval(d.cfg.HeartbeatInterval, d.cfg.MaxShimConns, d.cfg.HeartbeatBudget)
}
