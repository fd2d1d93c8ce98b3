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
// last element of the path is looked at. It counts the bytes sent
// (Info.BytesOut) and the clients of the playlists (Viewers).
//
// gohlslib's Handle is wrapped for three reasons: it answers 200 with an
// empty body for names it does not know (here: 404); its blocking playlist
// and preload-hint waits ignore client disconnects (here: the wait runs in
// its own goroutine, which ends when the muxer moves on or is closed, and
// the request returns when the client goes away or after MaxWait); and
// when no muxer runs yet the request waits for one instead of failing
// (for a playlist of a source that is Starting, until the start's bound).
// Identical requests share one such wait and one answer (see flight), so
// that thousands of viewers of a camera cost about what one does.
func (s *Stream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	if !validFileName(name) {
		httpError(w, http.StatusNotFound, "no such file")
		return
	}
	if name == FirstFile {
		s.serveFirst(w, r)
		return
	}
	playlist := strings.HasSuffix(name, ".m3u8")
	if playlist {
		s.viewers.saw(r)
	}
	// The hot path, a viewer asking for what another already got: an
	// answer that is ready costs no goroutine, timer or render.
	mux, lost := s.muxer()
	var f *flight
	if mux != nil {
		f = s.flight(mux, name, r.URL.RawQuery)
		if s.onFlight != nil {
			s.onFlight(f)
		}
		select {
		case <-f.done:
			s.answer(w, r, mux, f)
			return
		default:
		}
	}

	// A playlist request while the source is being started (Starting)
	// waits for the first segment until the start's bound; any other
	// request at most MaxWait.
	wait, starting := s.MaxWait(), false
	if playlist {
		if d := time.Until(time.Unix(0, s.startUntil.Load())); d > wait {
			wait, starting = d, true
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	if mux == nil {
		mux, lost = s.waitMuxer(ctx)
		if mux == nil {
			if r.Context().Err() == nil {
				w.Header().Set("Retry-After", "1")
				if starting {
					httpError(w, http.StatusServiceUnavailable, notUp)
				} else {
					httpError(w, http.StatusServiceUnavailable, "camera is not live")
				}
			}
			return
		}
		f = s.flight(mux, name, r.URL.RawQuery)
		if s.onFlight != nil {
			s.onFlight(f)
		}
	}
	select {
	case <-f.done:
	case <-lost:
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, "camera is offline")
		return
	case <-ctx.Done():
		if r.Context().Err() == nil {
			w.Header().Set("Retry-After", "1")
			if starting {
				httpError(w, http.StatusServiceUnavailable, notUp)
			} else {
				httpError(w, http.StatusServiceUnavailable, "timed out waiting for media")
			}
		}
		return
	}
	s.answer(w, r, mux, f)
}

// notUp answers a playlist request that waited for a starting camera's
// first segment until the bound given to Starting.
const notUp = "camera did not come up: no video yet since it was started; it keeps trying"

// answer writes a finished flight's answer.
func (s *Stream) answer(w http.ResponseWriter, r *http.Request, mux muxHandler, f *flight) {
	if f.status == http.StatusNotFound && !s.current(mux) {
		// The muxer was closed while the request waited in it: the camera
		// was lost or restarted. That is temporary, unlike a wrong name.
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusServiceUnavailable, "camera restarted")
		return
	}
	if f.notFound {
		httpError(w, http.StatusNotFound, "no such file")
		return
	}
	header, body := f.header, f.body
	if f.gzipOK && acceptsGzip(r) {
		header, body = f.gzipped()
	}
	// The flight's header values are shared by every viewer and never
	// changed: their capacity is their length, so an append copies.
	h := w.Header()
	for k, v := range header {
		h[k] = v
	}
	w.WriteHeader(f.status)
	// Every HLS file leaves through this one Write, so the count of bytes
	// out is taken here: an atomic add, where wrapping the ResponseWriter
	// would cost an allocation per request.
	n, _ := w.Write(body) // an error: the client went away
	s.bytesOut.Add(uint64(n))
}

// A flight is one answer of gohlslib's Handle, shared by every request for
// the same file and query while it is valid: thousands of viewers blocked
// on the same next part cost one waiting goroutine and one rendered (and
// at most one gzipped) playlist, not one each.
type flight struct {
	done chan struct{} // closed when the fields below are set
	mux  muxHandler
	ver  uint64    // playlists: valid while the stream's version is this
	at   time.Time // when the flight started, to drop old media files

	blocking bool // a playlist request with _HLS_msn: its answer has the part asked for
	playlist bool
	mutable  bool // playlists and init files: may change with each muxer write

	status   int
	notFound bool // gohlslib answered nothing: an unknown name
	header   http.Header
	body     []byte
	gzipOK   bool

	gzOnce   sync.Once
	gzHeader http.Header
	gzBody   []byte
}

type flightKey struct{ name, query string }

// flight returns the shared answer for name?query from mux, starting it if
// there is no valid one.
func (s *Stream) flight(mux muxHandler, name, query string) *flight {
	cur := s.ver.Load()
	key := flightKey{name, query}
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	if f := s.cache[key]; f != nil && f.mux == mux && f.valid(cur) {
		return f
	}
	playlist := strings.HasSuffix(name, ".m3u8")
	f := &flight{
		done:     make(chan struct{}),
		mux:      mux,
		ver:      cur,
		at:       time.Now(),
		playlist: playlist,
		blocking: playlist && strings.Contains(query, "_HLS_msn="),
		mutable:  playlist || strings.Contains(name, "init"),
	}
	if s.cache == nil {
		s.cache = map[flightKey]*flight{}
	}
	if len(s.cache) >= 64 {
		s.sweep(mux, cur)
	}
	s.cache[key] = f
	go s.run(f, key)
	return f
}

// valid reports whether f may answer a request made at version cur.
func (f *flight) valid(cur uint64) bool {
	select {
	case <-f.done:
		if f.status != http.StatusOK {
			return false
		}
		// A media file's name is never reused within a muxer; a
		// playlist is good until the muxer gets its next frame.
		return !f.mutable || f.ver == cur
	default:
		// A blocking reload in flight will answer with a playlist made
		// when the part it waits for is there, which is what a request
		// arriving now wants too. Other files render at once: join only
		// one started at the current version.
		return !f.mutable || f.blocking || f.ver == cur
	}
}

// sweep drops the flights no request can use any more, so the cache holds
// about one playlist window of parts. Called with cacheMu held.
func (s *Stream) sweep(mux muxHandler, cur uint64) {
	// Twice the playlist's window (segments may be longer than the
	// minimum): older parts are no longer listed, so no player asks.
	keep := 2 * time.Duration(s.HLS.SegmentCount+1) * s.HLS.SegmentDuration
	for k, f := range s.cache {
		select {
		case <-f.done:
		default:
			continue // in flight: its requests still wait for it
		}
		if f.mux != mux || !f.valid(cur) || time.Since(f.at) > keep {
			delete(s.cache, k)
		}
	}
}

// run asks gohlslib once, in its own goroutine: its waits cannot be
// cancelled, so it ends when the muxer moves on or is closed.
func (s *Stream) run(f *flight, key flightKey) {
	rec := &recorder{header: http.Header{}}
	req := &http.Request{
		Method: http.MethodGet,
		URL:    &url.URL{Path: "/" + key.name, RawQuery: key.query},
		Header: http.Header{},
	}
	f.mux.Handle(rec, req)
	if f.blocking {
		// Rendered when the awaited part arrived, so at about this
		// version; a frame later is still a playlist with that part.
		f.ver = s.ver.Load()
	}
	f.finish(rec, key.name)
	close(f.done)
	if f.status != http.StatusOK {
		s.cacheMu.Lock()
		if s.cache[key] == f {
			delete(s.cache, key)
		}
		s.cacheMu.Unlock()
	}
}

// finish turns gohlslib's answer into the headers and body every request
// of the flight gets.
func (f *flight) finish(rec *recorder, name string) {
	if rec.status == 0 && rec.body.Len() == 0 {
		f.notFound = true
		f.status = http.StatusNotFound
		return
	}
	f.status = rec.status
	if f.status == 0 {
		f.status = http.StatusOK
	}
	f.body = rec.body.Bytes()
	if f.status == http.StatusOK && f.playlist && name != "index.m3u8" {
		f.body = withStart(f.body)
	}
	h := http.Header{}
	for k, v := range rec.header {
		h[k] = v[:len(v):len(v)]
	}
	if f.status >= 400 {
		h["Cache-Control"] = []string{"no-store"}
	}
	if name == "index.m3u8" {
		// gohlslib lets the multivariant playlist be cached for 30 s, but
		// it changes when the camera does (codecs, resolution, audio).
		h["Cache-Control"] = []string{"no-cache"}
	}
	if f.status == http.StatusOK && f.blocking {
		// gohlslib says no-cache for every LL-HLS playlist. An answer to
		// a blocking reload, though, is right for as long as its part is
		// listed: letting a cache in front (deploy/nginx) keep it a
		// second collapses a crowd's identical reloads into one request
		// here. A second, so that a muxer restart (new names) is not
		// hidden for long.
		h["Cache-Control"] = []string{"public, max-age=1"}
	}
	if f.status == http.StatusOK && f.playlist {
		h["Vary"] = []string{"Accept-Encoding"}
		f.gzipOK = len(f.body) >= 512
	}
	h["Content-Length"] = []string{strconv.Itoa(len(f.body))}
	f.header = h
}

// gzipped returns the gzip answer, compressed once for all its requests.
func (f *flight) gzipped() (http.Header, []byte) {
	f.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(&buf)
		zw.Write(f.body) //nolint:errcheck // bytes.Buffer does not fail
		zw.Close()
		gzipPool.Put(zw)
		h := make(http.Header, len(f.header)+1)
		for k, v := range f.header {
			h[k] = v
		}
		h["Content-Encoding"] = []string{"gzip"}
		h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
		f.gzHeader, f.gzBody = h, buf.Bytes()
	})
	return f.gzHeader, f.gzBody
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
		ready := s.muxReady
		s.mu.Unlock()
		if mux, lost := s.muxer(); mux != nil {
			return mux, lost
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, nil
		}
	}
}

// muxer returns the running muxer (nil if none) and the channel that is
// closed if the source is lost (nil if it is already lost).
func (s *Stream) muxer() (muxHandler, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mux == nil {
		return nil, nil
	}
	if s.lost {
		return s.mux, nil
	}
	return s.mux, s.lostCh
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

// acceptsGzip reports whether the request accepts gzip, without
// allocating (it runs for every playlist request).
func acceptsGzip(r *http.Request) bool {
	for _, ae := range r.Header["Accept-Encoding"] {
		for ae != "" {
			var part string
			part, ae, _ = strings.Cut(ae, ",")
			part, _, _ = strings.Cut(part, ";")
			if strings.TrimSpace(part) == "gzip" {
				return true
			}
		}
	}
	return false
}

var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}
