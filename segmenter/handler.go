package segmenter

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ServeHTTP answers a request for one of the camera's HLS files; only the
// last element of the path is looked at.
//
// gohlslib's Handle is wrapped for three reasons: it answers 200 with an
// empty body for names it does not know (here: 404); its blocking playlist
// and preload-hint waits ignore client disconnects (here: the wait runs in
// its own goroutine, which ends when the muxer moves on or is closed, and
// the request returns when the client goes away or after MaxWait); and
// when no muxer runs yet the request waits for one instead of failing.
func (s *Stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	if !validFileName(name) {
		httpError(w, http.StatusNotFound, "no such file")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.MaxWait())
	defer cancel()

	mux, lost := s.waitMuxer(ctx)
	if mux == nil {
		if r.Context().Err() == nil {
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusServiceUnavailable, "camera is not live")
		}
		return
	}

	rec := &recorder{header: http.Header{}}
	req := &http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Path: "/" + name, RawQuery: r.URL.RawQuery},
		Header: http.Header{},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		mux.Handle(rec, req)
	}()
	select {
	case <-done:
	case <-lost:
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, "camera is offline")
		return
	case <-ctx.Done():
		if r.Context().Err() == nil {
			w.Header().Set("Retry-After", "1")
			httpError(w, http.StatusServiceUnavailable, "timed out waiting for media")
		}
		return
	}

	if rec.status == http.StatusNotFound && !s.current(mux) {
		// The muxer was closed while the request waited in it: the camera
		// was lost or restarted. That is temporary, unlike a wrong name.
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, "camera restarted")
		return
	}
	if rec.status == 0 && rec.body.Len() == 0 {
		httpError(w, http.StatusNotFound, "no such file")
		return
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	h := w.Header()
	for k, v := range rec.header {
		h[k] = v
	}
	if rec.status >= 400 {
		h.Set("Cache-Control", "no-store")
	}
	if name == "index.m3u8" {
		// gohlslib lets the multivariant playlist be cached for 30 s, but
		// it changes when the camera does (codecs, resolution, audio).
		h.Set("Cache-Control", "no-cache")
	}
	body := rec.body.Bytes()
	if rec.status == http.StatusOK && strings.HasSuffix(name, ".m3u8") {
		h.Add("Vary", "Accept-Encoding")
		if len(body) >= 512 && acceptsGzip(r) {
			writeGzip(w, body)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.status)
	w.Write(body) //nolint:errcheck // the client went away
}

// MaxWait bounds how long any request may be held: three segment
// durations, enough for an LL-HLS blocking reload or a first playlist.
func (s *Stream) MaxWait() time.Duration {
	return 3 * s.HLS.SegmentDuration
}

// waitMuxer returns the running muxer, waiting for one if needed, and a
// channel that is closed if the source is lost while the request waits
// (nil if it is already lost: then the request may wait for its return).
func (s *Stream) waitMuxer(ctx context.Context) (muxHandler, <-chan struct{}) {
	for {
		s.mu.Lock()
		mux, ready, lost := s.mux, s.muxReady, s.lostCh
		if s.lost {
			lost = nil
		}
		s.mu.Unlock()
		if mux != nil {
			return mux, lost
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, nil
		}
	}
}

// current reports whether mux is still the stream's running muxer.
func (s *Stream) current(mux muxHandler) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mux != nil && muxHandler(s.mux) == mux
}

type muxHandler interface {
	Handle(http.ResponseWriter, *http.Request)
}

// validFileName accepts the names gohlslib makes: letters, digits, '_',
// '-' and '.', ending in .m3u8, .mp4 or .ts.
func validFileName(name string) bool {
	if len(name) == 0 || len(name) > 128 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return strings.HasSuffix(name, ".m3u8") || strings.HasSuffix(name, ".mp4") || strings.HasSuffix(name, ".ts")
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, code)
}

// recorder holds gohlslib's answer until it is complete, so that the real
// ResponseWriter is never touched after ServeHTTP returned.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		if strings.TrimSpace(strings.SplitN(part, ";", 2)[0]) == "gzip" {
			return true
		}
	}
	return false
}

var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

func writeGzip(w http.ResponseWriter, body []byte) {
	var buf bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	zw.Reset(&buf)
	zw.Write(body) //nolint:errcheck // bytes.Buffer does not fail
	zw.Close()
	gzipPool.Put(zw)
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}
