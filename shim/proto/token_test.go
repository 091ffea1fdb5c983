package proto

import (
	"net/http"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestReadTokenRefusesBadTokens: one error line naming the descriptor.
func TestReadTokenRefusesBadTokens(t *testing.T) {
	for _, tc := range []struct{ name, token, want string }{
		{"empty", "", "empty token"},
		{"space inside", "ab cd", "printable ASCII"},
		{"newline inside", "ab\ncd", "printable ASCII"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := TokenPipe(tc.token)
			require.NoError(t, err)
			fd, err := dupFd(p)
			require.NoError(t, err)
			_, err = ReadToken(fd)
			require.ErrorContains(t, err, "--token-fd")
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// TestTokenHeader: SetToken and Token agree on the bearer form, and a
// header without it has no token.
func TestTokenHeader(t *testing.T) {
	for _, tc := range []struct {
		name, header, want string
		ok                 bool
	}{
		{"bearer", "Bearer abc", "abc", true},
		{"none", "", "", false},
		{"basic", "Basic abc", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("Authorization", tc.header)
			}
			got, ok := Token(h)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.want, got)
			}
		})
	}
	h := http.Header{}
	SetToken(h, "0123abcd")
	require.Equal(t, "Bearer 0123abcd", h.Get("Authorization"))
}

// dupFd gives f's descriptor away as a bare number, as an inherited one is.
func dupFd(f *os.File) (int, error) {
	defer f.Close()
	raw, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	fd := -1
	var derr error
	raw.Control(func(u uintptr) { fd, derr = dupCloexec(int(u)) })
	return fd, derr
}

func dupCloexec(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3) }
