package bench

import (
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Series is one named distribution to plot.
type Series struct {
	Name   string
	Values []time.Duration
}

// ErrNoData means there was nothing to plot.
var ErrNoData = errors.New("no data to plot")

// The plot's geometry in SVG user units (pixels).
const (
	svgWidth            = 820
	legendRow           = 18.0 // height of one legend line
	plotLeft, plotRight = 70.0, 800.0
	plotTop, plotBottom = 50.0, 440.0
)

// palette gives each series a colour by position; colour-blind safe.
var palette = []string{"#1b9e77", "#d95f02", "#7570b3", "#666666", "#e7298a", "#66a61e", "#e6ab02", "#a6761d"}

// WriteCDF writes an SVG image with one cumulative distribution per
// series: at x, the line's height is the share of runs that took at most
// x. A CDF shows the whole distribution (the median is where a line
// crosses 50%, the tail is how late it reaches 100%) without choosing
// bins. The time axis is logarithmic because the contenders differ by
// more than ten times: on a linear axis the baseline would be a wall at 0.
func WriteCDF(w io.Writer, title string, series []Series) error {
	lo, hi, ok := msRange(series)
	if !ok {
		return ErrNoData
	}
	// Round numbers (1, 2 or 5 times a power of ten) at both ends.
	lo, hi = niceBelow(lo), niceAbove(hi)
	if hi <= lo {
		hi = niceAbove(lo * 1.5)
	}
	xOf := func(msec float64) float64 {
		msec = max(msec, lo)
		return plotLeft + (math.Log10(msec)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*(plotRight-plotLeft)
	}
	yOf := func(share float64) float64 { return plotBottom - share*(plotBottom-plotTop) }

	// The legend goes under the plot, where it can never hide a line.
	legendTop := plotBottom + 50
	height := int(legendTop + legendRow*float64(len(series)) + 10)

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgWidth, height)
	fmt.Fprintf(&b, `<text x="%d" y="28" text-anchor="middle" font-size="16">%s</text>`+"\n", svgWidth/2, html.EscapeString(title))

	// Grid: 1-2-5 steps on the time axis, the percentiles people quote on the other.
	for decade := math.Pow(10, math.Floor(math.Log10(lo))); decade < hi*1.001; decade *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := m * decade
			if v < lo*0.999 || v > hi*1.001 {
				continue
			}
			x := xOf(v)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", x, plotTop, x, plotBottom)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, plotBottom+16, strconv.FormatFloat(v, 'g', -1, 64))
		}
	}
	for _, pct := range []float64{0, 25, 50, 75, 95, 100} {
		y := yOf(pct / 100)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", plotLeft, y, plotRight, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%g%%</text>`+"\n", plotLeft-6, y+4, pct)
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#333"/>`+"\n",
		plotLeft, plotTop, plotRight-plotLeft, plotBottom-plotTop)
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">wall time per container, ms (log scale)</text>`+"\n",
		(plotLeft+plotRight)/2, plotBottom+34)
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">share of runs at most this fast</text>`+"\n",
		(plotTop+plotBottom)/2)

	// One step line per series: it rises by 1/n at each measured value.
	for i, s := range series {
		if len(s.Values) == 0 {
			continue
		}
		sorted := slices.Clone(s.Values)
		slices.Sort(sorted)
		n := float64(len(sorted))
		var pts strings.Builder
		for k, v := range sorted {
			x := xOf(toMS(v))
			fmt.Fprintf(&pts, "%.1f,%.1f %.1f,%.1f ", x, yOf(float64(k)/n), x, yOf(float64(k+1)/n))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>`+"\n",
			palette[i%len(palette)], strings.TrimSpace(pts.String()), html.EscapeString(s.Name))
	}

	for i, s := range series {
		sorted := slices.Clone(s.Values)
		slices.Sort(sorted)
		y := legendTop + legendRow*float64(i) + legendRow/2
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"/>`+"\n",
			plotLeft, y, plotLeft+24, y, palette[i%len(palette)])
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s: p50 %s, p95 %s</text>`+"\n",
			plotLeft+32, y+4, html.EscapeString(s.Name), ms(Percentile(sorted, 50)), ms(Percentile(sorted, 95)))
	}
	b.WriteString("</svg>\n")

	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

// steps are the round multipliers of a power of ten used on the time axis.
var steps = []float64{1, 2, 5, 10}

// niceBelow returns the largest 1, 2 or 5 times a power of ten that is at most v (v > 0).
func niceBelow(v float64) float64 {
	decade := math.Pow(10, math.Floor(math.Log10(v)))
	nice := decade
	for _, m := range steps {
		if m*decade <= v*(1+1e-9) {
			nice = m * decade
		}
	}
	return nice
}

// niceAbove returns the smallest 1, 2 or 5 times a power of ten that is at least v (v > 0).
func niceAbove(v float64) float64 {
	decade := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range steps {
		if m*decade >= v*(1-1e-9) {
			return m * decade
		}
	}
	return 10 * decade
}

// msRange returns the smallest and largest value over all series in
// milliseconds; ok is false if there are none.
func msRange(series []Series) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for _, v := range s.Values {
			m := toMS(v)
			lo, hi = min(lo, m), max(hi, m)
			ok = true
		}
	}
	return lo, hi, ok
}

// toMS converts to milliseconds, never below a microsecond so the log scale stays finite.
func toMS(d time.Duration) float64 {
	return max(float64(d), float64(time.Microsecond)) / float64(time.Millisecond)
}
