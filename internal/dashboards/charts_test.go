package dashboards_test

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
)

// A chart drawn from one dashboard query's result, for the README: the
// pictures of the dashboards that cannot be screenshotted without Grafana.
// HOTLINEQC_DASHBOARD_CHARTS=dir makes TestDashboardQueriesOnRealServers
// write one per dashboard.

// series is one line of a chart: points (x, y) in time order.
type series struct {
	name   string
	points [][2]float64
}

var palette = []string{"#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777"}

const chartW, chartH, padL, padR, padT, padB = 720.0, 300.0, 64.0, 150.0, 40.0, 36.0

func chartFrame(title string, b *strings.Builder) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif" font-size="12">`,
		chartW, chartH, chartW, chartH)
	fmt.Fprintf(b, `<rect width="100%%" height="100%%" fill="#ffffff"/><text x="%g" y="22" font-size="15" font-weight="600">%s</text>`, padL, html.EscapeString(title))
}

// axis draws y gridlines from 0 to top with labels formatted by unit.
func axis(b *strings.Builder, top float64, unit string) {
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		y := chartH - padB - (chartH-padT-padB)*float64(i)/4
		fmt.Fprintf(b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#e5e7eb"/><text x="%g" y="%.1f" text-anchor="end" fill="#6b7280">%s</text>`,
			padL, chartW-padR, y, y, padL-6, y+4, label(v, unit))
	}
}

func label(v float64, unit string) string {
	switch unit {
	case "percentunit":
		return fmt.Sprintf("%.1f%%", v*100)
	case "s":
		return fmt.Sprintf("%.0f 秒", v)
	}
	if v >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func niceTop(max float64, unit string) float64 {
	if unit == "percentunit" {
		return 1
	}
	if max <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(max)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= max {
			return m * p
		}
	}
	return 10 * p
}

// lineChart draws series over time.
func lineChart(title, unit string, ss []series) string {
	var b strings.Builder
	chartFrame(title, &b)
	minX, maxX, maxY := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range ss {
		for _, p := range s.points {
			minX, maxX, maxY = math.Min(minX, p[0]), math.Max(maxX, p[0]), math.Max(maxY, p[1])
		}
	}
	top := niceTop(maxY, unit)
	axis(&b, top, unit)
	sort.Slice(ss, func(i, j int) bool { return ss[i].name < ss[j].name })
	for i, s := range ss {
		var pts []string
		for _, p := range s.points {
			x := padL + (chartW-padL-padR)*(p[0]-minX)/math.Max(maxX-minX, 1)
			y := chartH - padB - (chartH-padT-padB)*p[1]/top
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		c := palette[i%len(palette)]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%g" y="%d" width="10" height="10" fill="%s"/><text x="%g" y="%d">%s</text>`,
			chartW-padR+12, int(padT)+i*18, c, chartW-padR+26, int(padT)+9+i*18, html.EscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// barChart draws one bar per label.
func barChart(title, unit string, labels []string, values []float64) string {
	var b strings.Builder
	chartFrame(title, &b)
	maxY := 0.0
	for _, v := range values {
		maxY = math.Max(maxY, v)
	}
	top := niceTop(maxY, unit)
	axis(&b, top, unit)
	w := (chartW - padL - padR) / float64(max(len(values), 1))
	for i, v := range values {
		h := (chartH - padT - padB) * v / top
		x := padL + w*float64(i) + w*0.15
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/><text x="%.1f" y="%g" text-anchor="middle">%s</text><text x="%.1f" y="%.1f" text-anchor="middle" fill="#374151">%s</text>`,
			x, chartH-padB-h, w*0.7, h, palette[0], x+w*0.35, chartH-padB+16, html.EscapeString(labels[i]), x+w*0.35, chartH-padB-h-4, label(v, unit))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
