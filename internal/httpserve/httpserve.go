// Package httpserve serves the operational HTTP endpoints of hotlineqc
// processes: /metrics, /healthz, and whatever else a process adds, with a
// graceful shutdown when the context ends.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Mux returns a mux serving /metrics from reg, /livez and /healthz.
// /livez answers 200 for as long as the process serves (the liveness
// probe: restarting would not help). /healthz is readiness: 200 "ok" when
// every check returns nil, else 503 with each check's reason, one a line
// (Kafka unreachable, for example), while the process keeps running.
func Mux(reg *prometheus.Registry, checks ...func() error) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/livez", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		var failed []string
		for _, check := range checks {
			if err := check(); err != nil {
				failed = append(failed, err.Error())
			}
		}
		if len(failed) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + strings.Join(failed, "\nnot ready: ") + "\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// WithProfiling adds Go's profiling endpoints (/debug/pprof/) to mux. They
// reveal internals and cost CPU when used: enable them only on a trusted
// listener, for diagnosis and benchmarks.
func WithProfiling(mux *http.ServeMux) *http.ServeMux {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	return mux
}

// Run serves h on ln until ctx ends, then shuts down within 5 s. With a
// web configuration file (the Prometheus exporter-toolkit's: TLS, basic
// auth with bcrypt hashes, rate limit), every path is served under it;
// without one, in plain HTTP.
func Run(ctx context.Context, ln net.Listener, h http.Handler, webConfig string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "http")
	// Handshake errors (a client without the CA, plain HTTP) are the
	// client's: logged at debug level.
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := web.Serve(ln, srv, &web.FlagConfig{WebConfigFile: &webConfig}, log)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http on %s: %w", ln.Addr(), err)
	}
	return nil
}

// ValidateWebConfig checks a web configuration file as Run would read it.
func ValidateWebConfig(path string) error {
	if path == "" {
		return nil
	}
	return web.Validate(path)
}
