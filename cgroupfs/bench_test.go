package cgroupfs

import (
	"fmt"
	"os"
	"testing"
)

// BenchmarkCreateDestroy measures the cgroup part of starting and removing
// a container on the real host: mkdir (plus cpuset copying on v1 or
// controller enabling on v2) in every hierarchy, then rmdir.
func BenchmarkCreateDestroy(b *testing.B) {
	h, err := Detect()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("layout %s, %d hierarchies", h.Layout(), len(h.hierarchies()))
	i := 0
	for b.Loop() {
		g, err := h.Group(fmt.Sprintf("/cm-cgroupfs-bench-%d-%d", os.Getpid(), i))
		if err != nil {
			b.Fatal(err)
		}
		if err := g.Create(); err != nil {
			b.Fatal(err)
		}
		if err := g.Destroy(); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
