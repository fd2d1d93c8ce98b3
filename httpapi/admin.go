package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/config"
)

// The admin routes change things, or tell more than viewers need:
//
//	POST /api/v1/reload                 reload the config (Options.Reload)
//	POST /api/v1/cameras/{name}/restart restart a camera (Cameras.Restart)
//	POST /api/v1/cameras/{name}/link    mint a view link: ?ttl=1h (default 1h)
//	GET  /metrics                       Prometheus metrics (Options.Metrics)
//
// Handler serves them to admin users (to anyone without users) unless
// Options.AdminListen is set; AdminHandler serves them then, with
// GET /api/v1/server and /healthz. Writes from another site's page are
// refused (http.CrossOriginProtection): a browser would send them with the
// user's login, or to a private address it can reach.

// Bounds of a view link's ttl.
const (
	defaultLinkTTL = time.Hour
	maxLinkTTL     = 366 * 24 * time.Hour
)

// addAdminRoutes adds the admin routes to mux.
func addAdminRoutes(mux *http.ServeMux, cams Cameras, o Options) {
	csrf := http.NewCrossOriginProtection()
	admin := func(h http.HandlerFunc) http.Handler { return requireAdmin(csrf.Handler(h)) }

	mux.Handle("POST /api/v1/reload", admin(func(w http.ResponseWriter, _ *http.Request) {
		if o.Reload == nil {
			writeJSON(w, http.StatusNotFound, apiError{Error: "reload is not available"})
			return
		}
		if err := o.Reload(); err != nil {
			code := http.StatusInternalServerError
			if _, ok := errors.AsType[*config.Error](err); ok {
				code = http.StatusBadRequest // the file has mistakes
			}
			writeJSON(w, code, apiError{Error: config.Redact(err.Error())})
			return
		}
		writeJSON(w, http.StatusOK, okJSON{OK: true})
	}))
	mux.Handle("POST /api/v1/cameras/{name}/restart", admin(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if _, ok := cams.Status(name); !ok {
			writeJSON(w, http.StatusNotFound, apiError{Error: "no such camera"})
			return
		}
		if err := cams.Restart(name); errors.Is(err, camera.ErrNoCamera) {
			writeJSON(w, http.StatusNotFound, apiError{Error: "no such camera"})
			return
		} else if err != nil {
			writeJSON(w, http.StatusInternalServerError, apiError{Error: config.Redact(err.Error())})
			return
		}
		writeJSON(w, http.StatusOK, okJSON{OK: true})
	}))
	secret := []byte(o.TokenSecret)
	mux.Handle("POST /api/v1/cameras/{name}/link", admin(func(w http.ResponseWriter, r *http.Request) {
		if len(secret) == 0 {
			writeJSON(w, http.StatusNotFound, apiError{Error: "view links are off: set tokenSecret in the config"})
			return
		}
		name := r.PathValue("name")
		if _, ok := cams.Status(name); !ok {
			writeJSON(w, http.StatusNotFound, apiError{Error: "no such camera"})
			return
		}
		ttl := defaultLinkTTL
		if s := r.URL.Query().Get("ttl"); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < time.Second || d > maxLinkTTL {
				writeJSON(w, http.StatusBadRequest, apiError{Error: "ttl must be a duration from 1s to 8784h, like 30m or 24h"})
				return
			}
			ttl = d
		}
		expires := time.Now().Add(ttl).Truncate(time.Second)
		tok := SignViewToken(secret, name, expires)
		writeJSON(w, http.StatusOK, linkJSON{
			URL:     "/cams/" + url.PathEscape(name) + "/?" + tokenParam + "=" + url.QueryEscape(tok),
			Token:   tok,
			Expires: expires.UTC(),
		})
	}))
	if o.Metrics != nil {
		mux.Handle("GET /metrics", requireAdmin(o.Metrics))
	}
}

type okJSON struct {
	OK bool `json:"ok"`
}

// linkJSON is the answer of POST /api/v1/cameras/{name}/link. URL is the
// path and query of the camera's page with the token, to append to the
// server's address.
type linkJSON struct {
	URL     string    `json:"url"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// serverJSON is the answer of GET /api/v1/server.
type serverJSON struct {
	Version       string    `json:"version"`
	UptimeSeconds float64   `json:"uptimeSeconds"`
	ConfigPath    string    `json:"configPath"`
	Started       time.Time `json:"started"`
}

// addServerInfo adds GET /api/v1/server to mux.
func addServerInfo(mux *http.ServeMux, o Options) {
	mux.HandleFunc("GET /api/v1/server", func(w http.ResponseWriter, _ *http.Request) {
		j := serverJSON{Version: o.Version, ConfigPath: o.ConfigPath, Started: o.Started}
		if !o.Started.IsZero() {
			j.UptimeSeconds = time.Since(o.Started).Seconds()
		}
		writeJSON(w, http.StatusOK, j)
	})
}

// addAPIFallback answers the API's unknown paths with 404 and its known
// paths asked with another method with 405, both in JSON like the rest of
// the API.
func addAPIFallback(mux *http.ServeMux) {
	const fallback = "/api/"
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	mux.HandleFunc(fallback, func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range methods {
			probe := r.WithContext(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != fallback {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			writeJSON(w, http.StatusNotFound, apiError{Error: "no such API path"})
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, apiError{Error: r.Method + " is not allowed here"})
	})
}

// adminRoutes are the routes of AdminHandler.
func adminRoutes(cams Cameras, o Options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", serveHealthz)
	addAdminRoutes(mux, cams, o)
	addServerInfo(mux, o)
	addAPIFallback(mux)
	return recordRoute(mux)
}

func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte("ok\n")) //nolint:errcheck // the client went away
}
