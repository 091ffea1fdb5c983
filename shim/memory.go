package shim

import (
	"log"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// memoryHeadroom is how far the Go runtime's memory may grow past what the
// daemon holds once its container runs before the garbage collector works
// to give it back. Without a limit a heartbeating shim's heap reaches the
// collector's minimum goal in garbage before each collection and the
// scavenger hands freed pages back lazily, so it grows for hours; a little
// headroom keeps it near its settled size for a little more CPU per
// heartbeat. A fixed limit below the runtime's own floor makes it collect
// on every heartbeat: hence "what it holds now + headroom", never a
// constant. The README's "A shim's memory" has the measurements.
const memoryHeadroom = 1 << 20

// settleDelay is how long after ready, and after start, the shim settles (see Run).
const settleDelay = time.Second

// settleMemory gives back what creating the container needed (the bundle
// decoded on the Go heap, libseccomp's allocations on the C heap: never
// used again) and then caps the Go runtime's memory a little above what
// is left, so that a shim idling for days stays as small as it started.
// The limit is soft: a shim that really needs more gets it, at the price
// of more frequent collections.
func settleMemory() {
	before, began := vmRSS(), time.Now()
	debug.FreeOSMemory()
	trimCHeap()
	limit := goMemory() + memoryHeadroom
	if cur := debug.SetMemoryLimit(-1); cur != math.MaxInt64 {
		limit = cur // GOMEMLIMIT from the environment: whoever set it chose
	}
	debug.SetMemoryLimit(limit)
	log.Printf("gave memory back in %v: VmRSS %d kB before, %d kB after; Go memory limit %d kB",
		time.Since(began).Round(10*time.Microsecond), before, vmRSS(), limit>>10)
}

// goMemory is the memory the Go runtime holds from the OS now: what its
// memory limit counts (all mapped memory minus what was released).
func goMemory() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}
