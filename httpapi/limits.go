package httpapi

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// MaxBodyBytes bounds a request's body: the API takes small JSON, and
// nothing else takes a body at all.
const MaxBodyBytes = 64 << 10

// LimitBody caps the body of every request at n bytes: one declaring more
// (Content-Length) is answered 413 at once, without reading it; one sent
// without a length (chunked) reads an error past n (*http.MaxBytesError,
// which handlers should answer with 413) and has its connection closed.
func LimitBody(next http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			w.Header().Set("Connection", "close")
			plainError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

// BlockingLimiter caps the LL-HLS blocking playlist requests (a .m3u8
// with _HLS_msn) in flight, from each client and in total (config.Limits):
// each holds a request open until the next part is out, so without a cap
// one client could hold any number of them. A request over either cap is
// answered 429 at once, with Retry-After: 1.
//
// A client is its address (RemoteAddr), an IPv6 one taken by its /64,
// which one subscriber usually has all of. Behind a reverse proxy every
// client is the proxy's address, and shares one cap.
type BlockingLimiter struct {
	limits atomic.Pointer[config.Limits]
	total  atomic.Int64

	mu     sync.Mutex
	client map[netip.Addr]int // requests in flight, by client; no zeros

	rejectedClient atomic.Uint64
	rejectedTotal  atomic.Uint64
}

// NewBlockingLimiter returns a limiter with the caps of l; a cap below 1
// means none.
func NewBlockingLimiter(l config.Limits) *BlockingLimiter {
	b := &BlockingLimiter{client: map[netip.Addr]int{}}
	b.SetLimits(l)
	return b
}

// SetLimits changes the caps, for a reload. Requests already in flight
// are left to finish; new ones are turned away while over a new cap.
func (b *BlockingLimiter) SetLimits(l config.Limits) {
	b.limits.Store(&l)
}

// Limits returns the caps in force.
func (b *BlockingLimiter) Limits() config.Limits {
	return *b.limits.Load()
}

// InFlight returns the blocking requests in flight over all clients.
func (b *BlockingLimiter) InFlight() int {
	return int(b.total.Load())
}

// Clients returns the number of clients with blocking requests in flight.
func (b *BlockingLimiter) Clients() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.client)
}

// Rejected returns the requests answered 429 since start: over the cap of
// their client, and over the total cap.
func (b *BlockingLimiter) Rejected() (client, total uint64) {
	return b.rejectedClient.Load(), b.rejectedTotal.Load()
}

// Limit returns next behind the caps.
func (b *BlockingLimiter) Limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isBlocking(r) {
			next.ServeHTTP(w, r)
			return
		}
		key := clientKey(r.RemoteAddr)
		switch b.acquire(key) {
		case overTotal:
			tooMany(w, "too many blocking playlist requests on the server")
			return
		case overClient:
			tooMany(w, "too many blocking playlist requests from this client")
			return
		}
		defer b.release(key)
		next.ServeHTTP(w, r)
	})
}

type verdict int

const (
	admitted verdict = iota
	overClient
	overTotal
)

func (b *BlockingLimiter) acquire(key netip.Addr) verdict {
	l := b.limits.Load()
	if n := b.total.Add(1); l.BlockingTotal > 0 && n > int64(l.BlockingTotal) {
		b.total.Add(-1)
		b.rejectedTotal.Add(1)
		return overTotal
	}
	b.mu.Lock()
	n := b.client[key]
	if l.BlockingPerClient > 0 && n >= l.BlockingPerClient {
		b.mu.Unlock()
		b.total.Add(-1)
		b.rejectedClient.Add(1)
		return overClient
	}
	b.client[key] = n + 1
	b.mu.Unlock()
	return admitted
}

func (b *BlockingLimiter) release(key netip.Addr) {
	b.mu.Lock()
	if n := b.client[key] - 1; n > 0 {
		b.client[key] = n
	} else {
		delete(b.client, key)
	}
	b.mu.Unlock()
	b.total.Add(-1)
}

func tooMany(w http.ResponseWriter, msg string) {
	w.Header().Set("Retry-After", "1")
	plainError(w, http.StatusTooManyRequests, msg)
}

// isBlocking reports whether r is an LL-HLS blocking playlist request: a
// .m3u8 with _HLS_msn in its query, however that is escaped.
func isBlocking(r *http.Request) bool {
	q := r.URL.RawQuery
	if q == "" || !strings.HasSuffix(r.URL.Path, ".m3u8") {
		return false
	}
	if strings.Contains(q, "_HLS_msn") {
		return true
	}
	if !strings.Contains(q, "%") {
		return false
	}
	// Rare: a query with escapes, which the player's server decodes.
	v, _ := url.ParseQuery(q)
	return v.Has("_HLS_msn")
}

// clientKey is the client of remoteAddr ("ip:port"): its IP, or the /64
// of an IPv6 one. An address that does not parse is the zero Addr, all of
// them one client.
func clientKey(remoteAddr string) netip.Addr {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		a, err := netip.ParseAddr(remoteAddr)
		if err != nil {
			return netip.Addr{}
		}
		ap = netip.AddrPortFrom(a, 0)
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}

// plainError answers code with a short plain-text message, not cached.
func plainError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, code)
}
