// Package httpapi is rtsp2hls's HTTP side: the pages, each camera's HLS
// files, the JSON API and the health check, on one net/http server.
package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/player"
)

// Cameras is what the HTTP side needs from the running cameras.
type Cameras interface {
	Statuses() []camera.Status
	Status(name string) (camera.Status, bool)
	HLS(name string) (http.Handler, bool)
}

// Handler returns the routes of rtsp2hls:
//
//	/                        the wall
//	/cams/{name}/            a camera's page
//	/cams/{name}/{file}      a camera's HLS files (index.m3u8 and the rest)
//	/assets/{file}           scripts, styles, hls.js
//	/api/v1/cameras          JSON list of cameras
//	/api/v1/cameras/{name}   JSON of one camera
//	/healthz                 200 "ok" while the server runs
func Handler(cams Cameras, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", player.ServeWall)
	mux.Handle("GET /assets/", player.Assets())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("ok\n")) //nolint:errcheck // the client went away
	})

	mux.HandleFunc("GET /cams/{name}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /cams/{name}/{$}", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := cams.Status(r.PathValue("name")); !ok {
			notFound(w, "no such camera")
			return
		}
		player.ServeCamera(w, r)
	})
	mux.HandleFunc("GET /cams/{name}/{file}", func(w http.ResponseWriter, r *http.Request) {
		h, ok := cams.HLS(r.PathValue("name"))
		if !ok {
			notFound(w, "no such camera")
			return
		}
		h.ServeHTTP(w, r)
	})

	mux.HandleFunc("GET /api/v1/cameras", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, cams.Statuses())
	})
	mux.HandleFunc("GET /api/v1/cameras/{name}", func(w http.ResponseWriter, r *http.Request) {
		st, ok := cams.Status(r.PathValue("name"))
		if !ok {
			writeJSON(w, http.StatusNotFound, apiError{Error: "no such camera"})
			return
		}
		writeJSON(w, http.StatusOK, st)
	})
	return mux
}

// NewServer returns an http.Server for h with timeouts that keep slow or
// idle clients from holding sockets, and no write timeout short enough to
// cut an LL-HLS blocking reload (segmenter bounds those itself). It speaks
// HTTP/1.1 and unencrypted HTTP/2 (h2c); over TLS, HTTP/2 as usual.
func NewServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Addr:              addr,
		Handler:           h,
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

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // the client went away
}

func notFound(w http.ResponseWriter, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, http.StatusNotFound)
}
