package execstream

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	big := strings.Repeat("x", MaxPayload+10)
	require.NoError(t, w.Write(Stdin, []byte("abc")))
	require.NoError(t, w.WriteResize(40, 132))
	_, err := w.Stream(Stdout).Write([]byte(big)) // split into two frames
	require.NoError(t, err)
	require.NoError(t, w.WriteExit(-1))

	k, p, err := Read(&buf)
	require.NoError(t, err)
	require.Equal(t, Stdin, k)
	require.Equal(t, "abc", string(p))
	k, p, err = Read(&buf)
	require.NoError(t, err)
	require.Equal(t, Resize, k)
	rows, cols, err := Size(p)
	require.NoError(t, err)
	require.Equal(t, [2]uint16{40, 132}, [2]uint16{rows, cols})
	var out []byte
	for range 2 {
		k, p, err = Read(&buf)
		require.NoError(t, err)
		require.Equal(t, Stdout, k)
		out = append(out, p...)
	}
	require.Equal(t, big, string(out))
	k, p, err = Read(&buf)
	require.NoError(t, err)
	require.Equal(t, Exit, k)
	code, err := ExitCode(p)
	require.NoError(t, err)
	require.Equal(t, -1, code)
	_, _, err = Read(&buf)
	require.ErrorIs(t, err, io.EOF)
}

func TestFrameTooBig(t *testing.T) {
	hdr := []byte{byte(Stdout), 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[1:], MaxPayload+1)
	_, _, err := Read(bytes.NewReader(hdr))
	require.ErrorContains(t, err, "more than")
	require.Error(t, NewWriter(io.Discard).Write(Stdout, make([]byte, MaxPayload+1)))
}

func TestFrameCutShort(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, NewWriter(&buf).Write(Stdout, []byte("hello")))
	_, _, err := Read(bytes.NewReader(buf.Bytes()[:7]))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestRequestCheck(t *testing.T) {
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{Args: []string{"true"}, Env: []string{"A=", "B=c=d"}, User: "0:0", Cwd: "/"}, ""},
		{Request{}, "args: required"},
		{Request{Args: []string{""}}, "args: required"},
		{Request{Args: []string{"true"}, Env: []string{"=x"}}, `env: "=x"`},
		{Request{Args: []string{"true"}, User: "1000:"}, `user: "1000:"`},
		{Request{Args: []string{"true"}, User: "-1"}, `user: "-1"`},
		{Request{Args: []string{"true"}, Cwd: "."}, `cwd: "."`},
	} {
		err := tc.req.Check()
		if tc.want == "" {
			require.NoError(t, err)
		} else {
			require.ErrorContains(t, err, tc.want)
		}
	}
	uid, gid, err := (&Request{User: "5"}).IDs()
	require.NoError(t, err)
	require.Equal(t, [2]int{5, -1}, [2]int{uid, gid})
}
