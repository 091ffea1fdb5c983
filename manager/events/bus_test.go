package events

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cm/manager/api"
)

func publish(b *Bus, n int) {
	for range n {
		b.Publish(api.Event{Type: api.EventTransition, ID: "c"})
	}
}

func seqs(evs []api.Event) []uint64 {
	var out []uint64
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

func TestReplayAndResync(t *testing.T) {
	const first = 100
	tests := []struct {
		name      string
		published int
		since     uint64
		want      []uint64 // nil: a resync
		wantSeq   uint64   // Seq of the resync
	}{
		{"replay from the start", 5, first - 1, []uint64{100, 101, 102, 103, 104}, 0},
		{"replay the tail", 5, 102, []uint64{103, 104}, 0},
		{"whole ring after overflow", 12, 103, []uint64{104, 105, 106, 107, 108, 109, 110, 111}, 0},
		{"since older than the ring", 12, 102, nil, 111},
		{"since from an earlier boot", 3, 7, nil, 102},
		{"since ahead of the stream", 3, 5000, nil, 102},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(8, first)
			publish(b, tt.published)
			got, err := b.Subscribe(tt.since).Next(context.Background())
			require.NoError(t, err)
			if tt.want != nil {
				require.Equal(t, tt.want, seqs(got))
				return
			}
			require.Len(t, got, 1)
			require.Equal(t, api.EventResync, got[0].Type)
			require.Equal(t, tt.wantSeq, got[0].Seq)
		})
	}
}

func TestSlowSubscriberGetsResyncThenCarriesOn(t *testing.T) {
	b := New(4, 1)
	ctx := context.Background()
	sub := b.SubscribeNew()
	publish(b, 2)
	got, err := sub.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2}, seqs(got))

	// The subscriber stops reading while 10 events pass a ring of 4.
	publish(b, 10)
	got, err = sub.Next(ctx)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, api.EventResync, got[0].Type)
	require.Equal(t, uint64(12), got[0].Seq)

	publish(b, 1)
	got, err = sub.Next(ctx)
	require.NoError(t, err)
	require.Equal(t, []uint64{13}, seqs(got), "after the resync the stream goes on without a gap")
}

func TestNextWaitsForPublish(t *testing.T) {
	b := New(4, 1)
	sub := b.SubscribeNew()
	done := make(chan []api.Event)
	go func() {
		evs, err := sub.Next(context.Background())
		require.NoError(t, err)
		done <- evs
	}()
	b.Publish(api.Event{Type: api.EventCreated, ID: "x"})
	evs := <-done
	require.Equal(t, "x", evs[0].ID)
	require.False(t, evs[0].Time.IsZero())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := sub.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
