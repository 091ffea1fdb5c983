package spec

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckID(t *testing.T) {
	for _, ok := range []string{"a", "my-container_1.2+x", "0123456789abcdef"} {
		require.NoError(t, CheckID(ok), ok)
	}
	for _, bad := range []string{"", ".", "..", "a/b", "../x", "a b", "x\x00"} {
		require.Error(t, CheckID(bad), "%q", bad)
	}
}
