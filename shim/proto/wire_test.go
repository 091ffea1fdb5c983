package proto

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIntervalJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{in: `2000`, want: 2 * time.Second},
		{in: `150`, want: 150 * time.Millisecond},
		{in: `"2s"`, want: 2 * time.Second},
		{in: `"100ms"`, want: 100 * time.Millisecond},
		{in: `"soon"`, wantErr: true},
		{in: `true`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var r RegisterReply
			err := json.Unmarshal([]byte(`{"heartbeatInterval":`+tc.in+`}`), &r)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, time.Duration(r.HeartbeatInterval))
		})
	}
	data, err := json.Marshal(RegisterReply{HeartbeatInterval: Interval(1500 * time.Millisecond)})
	require.NoError(t, err)
	require.JSONEq(t, `{"heartbeatInterval":1500}`, string(data))
}

// TestReportJSON pins the field names the manager relies on.
func TestReportJSON(t *testing.T) {
	data, err := json.Marshal(Report{ID: "c1", State: StateDead, Pid: 42,
		ExitStatus: ExitStatus{ExitCode: 137, Signal: 9, OOMKilled: true}, Seq: 3})
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"c1","state":"DEAD","pid":42,"exitCode":137,"signal":9,"oomKilled":true,"seq":3}`, string(data))
	data, err = json.Marshal(Register{ID: "c1", Pid: 7, Control: "/s.sock", State: StateReady, ContainerPid: 9})
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"c1","pid":7,"control":"/s.sock","state":"READY","containerPid":9}`, string(data))
}
