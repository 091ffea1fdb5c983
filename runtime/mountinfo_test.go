package runtime

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUnescapeMountPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/plain/path", "/plain/path"},
		{`/with\040space`, "/with space"},
		{`/tab\011and\134backslash`, "/tab\tand\\backslash"},
		{`/short\04`, `/short\04`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, unescapeMountPath(tt.in), tt.in)
	}
}
