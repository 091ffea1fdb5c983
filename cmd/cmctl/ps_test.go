package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager"
	"cm/manager/api"
)

// TestPsShowsReasons: ps marks a container the manager gave up on, or
// whose record was lost, and says why under the table.
func TestPsShowsReasons(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "cm.sock")
	l, err := net.Listen("unix", socket)
	require.NoError(t, err)
	list := []api.Container{
		{ID: "00000000000000a1", Name: "fine", State: manager.Running, Pid: 42, Command: []string{"sleep", "1"}, Created: time.Now()},
		{ID: "00000000000000b2", State: manager.Lost, Created: time.Now(),
			Error: "record lost (load container 00000000000000b2: state.json is missing)"},
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(list)
	})}
	go srv.Serve(l)
	defer srv.Close()

	var out, errOut bytes.Buffer
	require.Equal(t, 0, run(context.Background(), []string{"--socket", socket, "ps"}, &out, &errOut), errOut.String())
	require.Equal(t, `ID                NAME  STATE    PID  EXIT  CREATED  COMMAND
00000000000000a1  fine  RUNNING  42   -     0s ago   sleep 1
00000000000000b2  -     LOST*    -    -     0s ago   -
* 00000000000000b2: record lost (load container 00000000000000b2: state.json is missing)
`, out.String())
}
