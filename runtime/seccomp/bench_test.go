package seccomp

import (
	"testing"

	"github.com/stretchr/testify/require"

	"cm/runtime/spec"
)

// BenchmarkBuildDefaultProfile measures compiling the default profile
// (all of libseccomp's work), in this process since nothing is loaded.
func BenchmarkBuildDefaultProfile(b *testing.B) {
	p := spec.DefaultSeccomp()
	for b.Loop() {
		_, _, err := Build(p)
		require.NoError(b, err)
	}
}

// BenchmarkLoadDefaultProfile measures building and loading the default
// profile as the init does. A loaded filter cannot be removed and each
// load stacks another, so every iteration is a fresh child that times its
// own Build and Load; ns/op is dominated by starting the child, the
// build-µs and load-µs metrics are the numbers that matter.
func BenchmarkLoadDefaultProfile(b *testing.B) {
	var buildNs, loadNs, n int64
	for b.Loop() {
		r, _ := runChildTest(b, childConfig{Profile: spec.DefaultSeccomp(), Timed: true})
		require.Empty(b, r.Err)
		buildNs += r.BuildNs
		loadNs += r.LoadNs
		n++
	}
	b.ReportMetric(float64(buildNs)/float64(n)/1e3, "build-µs")
	b.ReportMetric(float64(loadNs)/float64(n)/1e3, "load-µs")
}
