package runtime

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/require"
)

// "cmrun features" tells callers that SCMP_ACT_NOTIFY profiles work.
func TestFeaturesListSeccompNotify(t *testing.T) {
	f := Features()
	require.Contains(t, f.Linux.Seccomp.Actions, string(specs.ActNotify))
}
