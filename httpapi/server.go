// Package httpapi is rtsp2hls's HTTP side: the pages, each camera's HLS
// files, the JSON API and the health check, on one net/http server, over
// HTTPS and HTTP/2 when TLS is configured.
package httpapi

import (
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/player"
)

// Options are the parts of Handler's routes that come from the config.
type Options struct {
	// Walls are the named walls, served at /walls/{name}.
	Walls []config.Wall
	// CA is the certificate of tls: auto's authority (PEM), offered at
	// /ca.pem; nil for none.
	CA []byte

	// Access (auth.go, headers.go, admin.go); Routes.Update swaps them
	// after a reload.

	// Users must log in (HTTP Basic) when there are any; none leaves
	// everything open.
	Users []config.User
	// TokenSecret signs and checks view links (SignViewToken); "" turns
	// them off.
	TokenSecret string
	// AdminListen set: the admin routes are served by AdminHandler, on
	// that listener, and not by Handler.
	AdminListen string
	// AllowOrigins may read answers across origins (CORS); "*" is any.
	AllowOrigins []string
	// FrameAncestors may show the pages in a frame, besides the server.
	FrameAncestors []string
	// Reload reloads the config, for POST /api/v1/reload; nil for none.
	Reload func() error
	// Metrics serves GET /metrics (admin only); nil: 404.
	Metrics http.Handler
	// Version, ConfigPath and Started are told by GET /api/v1/server.
	Version    string
	ConfigPath string
	Started    time.Time
}

// Cameras is what the HTTP side needs from the running cameras.
type Cameras interface {
	Statuses() []camera.Status
	Status(name string) (camera.Status, bool)
	HLS(name string) (http.Handler, bool)
	// SubstreamHLS is HLS for a camera's substream; false when the
	// camera is unknown or has none.
	SubstreamHLS(name string) (http.Handler, bool)
	// Restart restarts a camera's source and muxer, for POST
	// /api/v1/cameras/{name}/restart.
	Restart(name string) error
	// Touch tells that a camera is wanted, which starts an on-demand
	// camera; false when there is no such camera.
	Touch(name string) bool
}

// routes returns the routes of rtsp2hls, which Handler serves with its
// access rules (auth.go); a route checks mayWatch for its camera:
//
//	/                           the wall of every camera
//	/walls/{name}               a named wall
//	/cams/{name}/               a camera's page
//	/cams/{name}/{file}         a camera's HLS files (index.m3u8 and the rest)
//	/cams/{name}/sub/{file}     its substream's HLS files
//	/assets/{file}              scripts, styles, hls.js
//	/api/v1/cameras             JSON list of cameras
//	/api/v1/cameras/{name}      JSON of one camera
//	/api/v1/walls               JSON list of named walls
//	/api/v1/walls/{name}        JSON of one wall
//	/ca.pem                     the certificate to trust, with tls: auto (Options.CA)
//	/healthz                    200 "ok" while the server runs
//	/api/v1/server              JSON of the server (version, uptime)
//	admin routes                API writes and /metrics (admin.go)
func routes(cams Cameras, o Options) http.Handler {
	byName := make(map[string]wallJSON, len(o.Walls))
	list := make([]wallJSON, 0, len(o.Walls))
	for _, w := range o.Walls {
		j := wallJSON{Name: w.Name, Cameras: w.Cameras, Grid: w.Grid.String()}
		byName[w.Name] = j
		list = append(list, j)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", player.ServeWall)
	if o.CA != nil {
		mux.HandleFunc("GET /ca.pem", serveCA(o.CA))
	}
	mux.HandleFunc("GET /walls/{name}", func(w http.ResponseWriter, r *http.Request) {
		if wall, ok := byName[r.PathValue("name")]; !ok || !mayViewWall(r, wall) {
			notFound(w, "no such wall")
			return
		}
		player.ServeWall(w, r)
	})
	mux.HandleFunc("GET /walls/{name}/{$}", func(w http.ResponseWriter, r *http.Request) {
		redirectWithQuery(w, r, "/walls/"+r.PathValue("name"))
	})
	mux.Handle("GET /assets/", player.Assets())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n")) //nolint:errcheck // the client went away
	})

	mux.HandleFunc("GET /cams/{name}", func(w http.ResponseWriter, r *http.Request) {
		redirectWithQuery(w, r, r.URL.Path+"/") // a view link's token goes along
	})
	mux.HandleFunc("GET /cams/{name}/{$}", func(w http.ResponseWriter, r *http.Request) {
		// The page's request starts an on-demand camera, so that its
		// stream is on the way while the player loads.
		if name := r.PathValue("name"); !mayWatch(r, name) || !cams.Touch(name) {
			notFound(w, "no such camera")
			return
		}
		serveCameraPage(w, r)
	})
	mux.HandleFunc("GET /cams/{name}/{file}", func(w http.ResponseWriter, r *http.Request) {
		h, ok := cams.HLS(r.PathValue("name"))
		if !ok || !mayWatch(r, r.PathValue("name")) {
			notFound(w, "no such camera")
			return
		}
		serveHLS(w, r, h)
	})
	mux.HandleFunc("GET /cams/{name}/sub/{file}", func(w http.ResponseWriter, r *http.Request) {
		h, ok := cams.SubstreamHLS(r.PathValue("name"))
		if !ok || !mayWatch(r, r.PathValue("name")) {
			if _, known := cams.Status(r.PathValue("name")); known && mayWatch(r, r.PathValue("name")) {
				notFound(w, "camera has no substream")
			} else {
				notFound(w, "no such camera")
			}
			return
		}
		serveHLS(w, r, h)
	})

	mux.HandleFunc("GET /api/v1/walls", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, visibleWalls(r, list))
	})
	mux.HandleFunc("GET /api/v1/walls/{name}", func(w http.ResponseWriter, r *http.Request) {
		wall, ok := byName[r.PathValue("name")]
		if ok {
			wall, ok = visibleWall(r, wall)
		}
		if !ok {
			writeJSON(w, http.StatusNotFound, apiError{Error: "no such wall"})
			return
		}
		writeJSON(w, http.StatusOK, wall)
	})
	mux.HandleFunc("GET /api/v1/cameras", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, visibleStatuses(r, cams.Statuses()))
	})
	mux.HandleFunc("GET /api/v1/cameras/{name}", func(w http.ResponseWriter, r *http.Request) {
		st, ok := cams.Status(r.PathValue("name"))
		if !ok || !mayWatch(r, r.PathValue("name")) {
			writeJSON(w, http.StatusNotFound, apiError{Error: "no such camera"})
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	if o.AdminListen == "" {
		addAdminRoutes(mux, cams, o)
	}
	addServerInfo(mux, o)
	addAPIFallback(mux)
	// recordRoute passes the pattern that matched to Wrap's log and
	// metrics, whatever sits between them and the mux.
	return recordRoute(mux)
}

// NewServer returns an http.Server for h with timeouts that keep slow or
// idle clients from holding sockets, and no write timeout short enough to
// cut an LL-HLS blocking reload (segmenter bounds those itself). Request
// bodies are capped at MaxBodyBytes (LimitBody).
//
// With tlsConfig (serve it with ServeTLS(ln, "", "")) it speaks HTTPS,
// HTTP/2 or HTTP/1.1 as the client prefers (ALPN): browsers speak HTTP/2
// only over TLS, and only HTTP/2 carries many LL-HLS players at once,
// since each holds a blocking request open and HTTP/1.1 browsers open
// just 6 connections per host. Without, it speaks HTTP/1.1 and
// unencrypted HTTP/2 (h2c, for other clients).
func NewServer(addr string, h http.Handler, tlsConfig *tls.Config, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.Default()
	}
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(tlsConfig == nil)
	return &http.Server{
		Addr:              addr,
		Handler:           LimitBody(h, MaxBodyBytes),
		TLSConfig:         tlsConfig,
		Protocols:         &protocols,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

type apiError struct {
	Error string `json:"error"`
}

// wallJSON is the API's JSON of a named wall.
type wallJSON struct {
	Name    string   `json:"name"`
	Cameras []string `json:"cameras"`
	Grid    string   `json:"grid"` // "3x3", or "" for a grid sized to the cameras
}

// serverTimeHeader carries the server's clock (Unix milliseconds) on every
// API answer. The pages show how far each picture is behind live from the
// stream's program date time, which is stamped with the server's clock:
// this lets them correct for a viewer whose clock is off.
const serverTimeHeader = "X-Server-Time"

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set(serverTimeHeader, strconv.FormatInt(time.Now().UnixMilli(), 10))
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // the client went away
}

func notFound(w http.ResponseWriter, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, http.StatusNotFound)
}
