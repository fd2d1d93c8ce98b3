package httpapi

import (
	"log/slog"
	"net"
	"net/http"
	"time"
)

// statusClientClosed is the status logged and counted for a request whose
// client went away before anything was written (nginx's 499): mostly
// viewers closing a page while an LL-HLS blocking reload waits.
const statusClientClosed = 499

// LogRequests logs one line per request of next: method, path (never the
// query, which may carry a view token, nor any header), route (the
// pattern that matched), status, bytes, duration and remote IP.
func LogRequests(next http.Handler, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw, own := w.(*respWriter)
		if !own {
			rw = &respWriter{ResponseWriter: w}
		}
		start := time.Now()
		next.ServeHTTP(rw, r)
		log.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method),
			slog.String("path", truncate(r.URL.Path, 256)),
			slog.String("route", rw.routeOf(r)),
			slog.Int("status", rw.statusOf(r)),
			slog.Int64("bytes", rw.bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", remoteIP(r.RemoteAddr)),
		)
	})
}

// respWriter notes what a handler answers, for the log and the metrics;
// the outermost of them makes it, and the others use that one.
type respWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	route  string // the matched pattern, when recordRoute saw it
}

func (w *respWriter) WriteHeader(code int) {
	// 1xx answers other than 101 are not the final one.
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush sends what was written so far, when the connection can.
func (w *respWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		if w.status == 0 {
			w.status = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap is for http.ResponseController.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusOf is the status the request was answered with: 200 when the
// handler wrote nothing, unless the client had gone away (499).
func (w *respWriter) statusOf(r *http.Request) int {
	if w.status != 0 {
		return w.status
	}
	if r.Context().Err() != nil {
		return statusClientClosed
	}
	return http.StatusOK
}

// routeOf is the ServeMux pattern that matched r, "none" when none did
// (404 and 405 of the mux, and answers of middleware before it).
func (w *respWriter) routeOf(r *http.Request) string {
	route := w.route
	if route == "" {
		route = r.Pattern
	}
	if route == "" {
		return "none"
	}
	return route
}

// recordRoute is to sit right around the ServeMux: it passes the pattern
// that matched to the log and the metrics outside, even when a middleware
// between them and the mux gave the mux a copy of the request (which is
// where the mux sets Pattern).
func recordRoute(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r)
		if r.Pattern == "" {
			return
		}
		for {
			if rw, ok := w.(*respWriter); ok {
				rw.route = r.Pattern
				return
			}
			u, ok := w.(interface{ Unwrap() http.ResponseWriter })
			if !ok {
				return
			}
			w = u.Unwrap()
		}
	})
}

// remoteIP is the IP of remoteAddr ("ip:port"), or all of it if it is not
// that.
func remoteIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
