package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotlineqc/hotlineqc/internal/httpserve"
	"github.com/hotlineqc/hotlineqc/internal/profile"
)

//go:embed status.html
var statusHTML string

var page = template.Must(template.New("status").Funcs(template.FuncMap{
	"spark":  sparkline,
	"target": targetText,
	"sum":    sum,
}).Parse(statusHTML))

// serve serves the status page, its JSON, /metrics and /healthz until ctx ends.
func serve(ctx context.Context, ln net.Listener, st *status, reg *prometheus.Registry, webConfig string, log *slog.Logger, ready ...func() error) error {
	mux := httpserve.Mux(reg, ready...)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		snap, err := st.snapshot(r.Context())
		if err != nil {
			http.Error(w, "读取存储的指标失败: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, snap); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/api/status", func(w http.ResponseWriter, r *http.Request) {
		snap, err := st.snapshot(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(snap)
	})
	return httpserve.Run(ctx, ln, mux, webConfig, log)
}

// format renders a value for people: rates as percentages, seconds with
// their unit, counts as integers.
func format(u profile.Unit, v float64) string {
	switch u {
	case profile.Ratio:
		return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
	case profile.WorkingDays:
		return strconv.FormatFloat(v, 'f', 2, 64) + " 工作日"
	case profile.Seconds:
		return strconv.FormatFloat(v, 'f', 1, 64) + " 秒"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func targetText(t *profile.Target) string {
	if t == nil {
		return ""
	}
	op := "≥"
	if t.Op == "<=" {
		op = "≤"
	}
	return op + " " + strconv.FormatFloat(t.Value*100, 'f', -1, 64) + "%"
}

func sum(xs []int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// sparkline draws values as an inline SVG polyline.
func sparkline(xs []int) template.HTML {
	const w, h = 240.0, 36.0
	top := 1
	for _, x := range xs {
		top = max(top, x)
	}
	var pts []string
	for i, x := range xs {
		px := w * float64(i) / float64(max(len(xs)-1, 1))
		py := h - 2 - (h-4)*float64(x)/float64(top)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", px, py))
	}
	return template.HTML(fmt.Sprintf(`<svg class="spark" width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="最近一小时每分钟人工服务请求量"><polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="%s"/></svg>`,
		w, h, w, h, strings.Join(pts, " ")))
}
