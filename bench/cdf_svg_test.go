package bench

import (
	"bytes"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// svgDoc is what the test reads back from the SVG: the lines and all text.
type svgDoc struct {
	polylines []string // points attributes
	titles    []string // each polyline's <title>
	text      string   // every text node, joined
}

func parseSVG(t *testing.T, data []byte) svgDoc {
	t.Helper()
	var doc svgDoc
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the SVG must be well-formed XML")
		switch el := tok.(type) {
		case xml.StartElement:
			stack = append(stack, el.Name.Local)
			if el.Name.Local == "polyline" {
				for _, a := range el.Attr {
					if a.Name.Local == "points" {
						doc.polylines = append(doc.polylines, a.Value)
					}
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			s := strings.TrimSpace(string(el))
			if s == "" {
				continue
			}
			if len(stack) >= 2 && stack[len(stack)-1] == "title" && stack[len(stack)-2] == "polyline" {
				doc.titles = append(doc.titles, s)
			}
			doc.text += s + "\n"
		}
	}
	return doc
}

// durations makes n values from lo in steps of step.
func durations(n int, lo, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = lo + time.Duration(i)*step
	}
	return out
}

func TestWriteCDF(t *testing.T) {
	tests := []struct {
		name   string
		series []Series
	}{
		{"one series", []Series{{Name: "cmrun", Values: durations(50, 10*time.Millisecond, 100*time.Microsecond)}}},
		{"four series across two decades", []Series{
			{Name: "cmrun", Values: durations(200, 12*time.Millisecond, 50*time.Microsecond)},
			{Name: "runc", Values: durations(200, 25*time.Millisecond, 100*time.Microsecond)},
			{Name: "crun", Values: durations(200, 15*time.Millisecond, 40*time.Microsecond)},
			{Name: "baseline", Values: durations(200, 2*time.Millisecond, 5*time.Microsecond)},
		}},
		{"unsorted input and a name to escape", []Series{{Name: "a<b>&c", Values: []time.Duration{
			5 * time.Millisecond, time.Millisecond, 3 * time.Millisecond}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, WriteCDF(&buf, "spawn latency", tt.series))
			doc := parseSVG(t, buf.Bytes())

			require.Len(t, doc.polylines, len(tt.series), "one line per series")
			require.Contains(t, doc.text, "spawn latency")
			for i, s := range tt.series {
				require.Equal(t, s.Name, doc.titles[i])
				require.Contains(t, doc.text, s.Name+": p50 ", "legend entry")

				pts := strings.Fields(doc.polylines[i])
				require.Len(t, pts, 2*len(s.Values), "two points per step")
				prevX, prevY := -1.0, plotBottom+1
				for _, p := range pts {
					x, y := point(t, p)
					require.GreaterOrEqual(t, x, plotLeft)
					require.LessOrEqual(t, x, plotRight)
					// A CDF never goes left or down (SVG's y grows downwards).
					require.GreaterOrEqual(t, x, prevX)
					require.LessOrEqual(t, y, prevY)
					prevX, prevY = x, y
				}
				_, firstY := point(t, pts[0])
				require.Equal(t, plotBottom, firstY, "starts at 0%")
				require.Equal(t, plotTop, prevY, "ends at 100%")
			}
		})
	}
}

func TestWriteCDFNoData(t *testing.T) {
	tests := []struct {
		name   string
		series []Series
	}{
		{"no series", nil},
		{"only empty series", []Series{{Name: "cmrun"}, {Name: "runc"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, WriteCDF(io.Discard, "x", tt.series), ErrNoData)
		})
	}
}

func point(t *testing.T, p string) (x, y float64) {
	t.Helper()
	xs, ys, ok := strings.Cut(p, ",")
	require.True(t, ok, "point %q", p)
	x, err := strconv.ParseFloat(xs, 64)
	require.NoError(t, err)
	y, err = strconv.ParseFloat(ys, 64)
	require.NoError(t, err)
	return x, y
}

func TestNiceBounds(t *testing.T) {
	tests := []struct {
		v, below, above float64
	}{
		{1.75, 1, 2},
		{105.4, 100, 200},
		{33, 20, 50},
		{0.42, 0.2, 0.5},
		{7, 5, 10},
		{10, 10, 10},
		{5, 5, 5},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.v, 'g', -1, 64), func(t *testing.T) {
			require.InDelta(t, tt.below, niceBelow(tt.v), 1e-9)
			require.InDelta(t, tt.above, niceAbove(tt.v), 1e-9)
		})
	}
}
