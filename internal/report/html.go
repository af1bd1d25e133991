package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/hotlineqc/hotlineqc/internal/profile"
)

//go:embed report.html
var reportHTML string

// Style is the stylesheet of the HTML pages, screen and print.
//
// Style is the CSS of every page the reports write (report and assessment).
//
//go:embed style.css
var Style template.CSS

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"cell": CellText,
}).Parse(reportHTML))

// WriteHTML writes the report as one self-contained, printable page with
// inline SVG charts.
func (r *Report) WriteHTML(w io.Writer) error {
	return htmlPage.Execute(w, struct {
		Style     template.CSS
		R         *Report
		Tables    []Table
		Targets   template.HTML
		Ranking   template.HTML
		Trend     template.HTML
		Breaches  int
		DeptCount int
	}{Style, r, r.Tables(), r.targetChart(), r.rankingChart(), r.trendChart(), r.breaches(), len(r.Depts)})
}

func (r *Report) breaches() int {
	n := 0
	for _, l := range r.Overall {
		if l.Met != nil && !*l.Met {
			n++
		}
	}
	return n
}

// CellText renders a cell for people.
func CellText(c Cell) string {
	v, ok := c.Value.(float64)
	if !ok {
		s, _ := c.Value.(string)
		return s
	}
	switch c.Format {
	case Percent:
		return fmt.Sprintf("%.2f%%", v*100)
	case Decimal1:
		return fmt.Sprintf("%.1f", v)
	case Decimal2:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// ChartFont is the font of the inline SVG charts (the CJK font of the pages).
const ChartFont = `font-family="Noto Sans CJK SC, sans-serif" font-size="12"`

// targetChart draws each rate with a target as a bar from 0 to 100 %, a
// tick at the target, red when missed.
func (r *Report) targetChart() template.HTML {
	var rows []Line
	for _, l := range r.Overall {
		if l.Kind == profile.Rate && l.Target != nil && l.Value != nil {
			rows = append(rows, l)
		}
	}
	const left, width, rowH = 170.0, 420.0, 24.0
	h := rowH*float64(len(rows)) + 30
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="指标与目标" %s>`, left+width+70, h, left+width+70, h, ChartFont)
	for i, l := range rows {
		y := 10 + rowH*float64(i)
		color := "#16a34a"
		if l.Met != nil && !*l.Met {
			color = "#dc2626"
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%s</text>`, left-8, y+14, template.HTMLEscapeString(l.Name))
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="16" fill="#f3f4f6"/>`, left, y+2, width)
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%.1f" height="16" fill="%s"/>`, left, y+2, width**l.Value, color)
		tx := left + width*l.Target.Value
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="#111827" stroke-width="2"/>`, tx, tx, y, y+20)
		fmt.Fprintf(&b, `<text x="%g" y="%g">%.1f%%</text>`, left+width+6, y+14, *l.Value*100)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" fill="#6b7280">竖线为目标值</text></svg>`, left, h-4)
	return template.HTML(b.String())
}

// rankingChart draws department scores, best first.
func (r *Report) rankingChart() template.HTML {
	const left, width, rowH = 130.0, 420.0, 22.0
	h := rowH*float64(len(r.Depts)) + 12
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="承办单位得分排名" %s>`, left+width+110, h, left+width+110, h, ChartFont)
	colors := map[string]string{"优秀": "#16a34a", "良好": "#2563eb", "合格": "#d97706", "不合格": "#dc2626"}
	for i, d := range r.Depts {
		y := 6 + rowH*float64(i)
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end">%d. %s</text>`, left-8, y+13, d.Rank, template.HTMLEscapeString(d.Department))
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%.1f" height="15" fill="%s"/>`, left, y+2, width*d.Score/100, colors[d.Grade])
		fmt.Fprintf(&b, `<text x="%.1f" y="%g">%.2f %s</text>`, left+width*d.Score/100+6, y+13, d.Score, d.Grade)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// trendChart draws the daily answer rate and 15-second rate.
func (r *Report) trendChart() template.HTML {
	const left, top, width, height = 50.0, 10.0, 600.0, 180.0
	n := len(r.Daily)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="每日趋势" %s>`, left+width+20, top+height+50, left+width+20, top+height+50, ChartFont)
	for _, pct := range []float64{0, 0.5, 1} {
		y := top + height*(1-pct)
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#e5e7eb"/><text x="%g" y="%.1f" text-anchor="end">%.0f%%</text>`,
			left, left+width, y, y, left-6, y+4, pct*100)
	}
	series := []struct{ id, color, name string }{
		{"answer_rate", "#2563eb", "人工接通率"}, {"answered_within_15s_rate", "#d97706", r.Profile.IndicatorName(profile.ServiceLevelID)}, {"on_time_closure_rate", "#16a34a", "按时办结率"}}
	for si, s := range series {
		var pts []string
		for i, d := range r.Daily {
			if v := d.Values[s.id]; v != nil {
				x := left + width*float64(i)/float64(max(n-1, 1))
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, top+height*(1-*v)))
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, s.color, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="12" height="4" fill="%s"/><text x="%g" y="%g">%s</text>`,
			left+float64(si)*120, top+height+34, s.color, left+float64(si)*120+16, top+height+40, s.name)
	}
	for i, d := range r.Daily {
		if i%5 == 0 || i == n-1 {
			x := left + width*float64(i)/float64(max(n-1, 1))
			fmt.Fprintf(&b, `<text x="%.1f" y="%g" text-anchor="middle">%s</text>`, x, top+height+16, d.Date[5:])
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
