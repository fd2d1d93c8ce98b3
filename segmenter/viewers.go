package segmenter

import (
	"hash/maphash"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ViewerWindow is how recently a client must have fetched a playlist to
// count as a viewer. Players reload the playlist every part or segment
// (LL-HLS: several times a second, plain HLS: every few seconds), so a
// client that stopped watching drops out after this.
const ViewerWindow = 10 * time.Second

// maxViewers bounds the clients remembered per stream: 16 bytes each, so
// at most a few hundred kB however many addresses ask. Beyond it the
// count saturates.
const maxViewers = 20000

// viewers counts the distinct clients (remote address and user agent)
// that fetched a stream's playlists within ViewerWindow. A client is kept
// as a hash, with the time it was last seen; the map is swept of the
// expired as it is written, once per window (or once a second while
// full).
type viewers struct {
	now func() time.Time // tests move the clock; nil is time.Now

	mu        sync.Mutex
	seen      map[uint64]int64 // client hash → last seen, unix ns
	lastSweep int64
}

// viewerSeed keys the client hashes: unknown outside the process, so a
// client cannot pick values that collide with another's.
var viewerSeed = maphash.MakeSeed()

func (v *viewers) clock() int64 {
	if v.now != nil {
		return v.now().UnixNano()
	}
	return time.Now().UnixNano()
}

// saw records a playlist request. It does not allocate.
func (v *viewers) saw(r *http.Request) {
	var h maphash.Hash
	h.SetSeed(viewerSeed)
	h.WriteString(remoteHost(r.RemoteAddr))
	h.WriteByte(0)
	for _, ua := range r.Header["User-Agent"] {
		h.WriteString(ua)
	}
	key := h.Sum64()
	now := v.clock()

	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = map[uint64]int64{}
	}
	_, known := v.seen[key]
	if since := now - v.lastSweep; since > int64(ViewerWindow) || !known && len(v.seen) >= maxViewers && since > int64(time.Second) {
		v.sweep(now) // when full, at most once a second: a sweep is O(maxViewers)
	}
	if known || len(v.seen) < maxViewers {
		v.seen[key] = now
	}
}

// sweep drops the clients not seen within the window. Called with mu held.
func (v *viewers) sweep(now int64) {
	v.lastSweep = now
	for k, t := range v.seen {
		if now-t > int64(ViewerWindow) {
			delete(v.seen, k)
		}
	}
}

// count returns the clients seen within the window.
func (v *viewers) count() int {
	now := v.clock()
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, t := range v.seen {
		if now-t <= int64(ViewerWindow) {
			n++
		}
	}
	return n
}

// remoteHost is the address part of a RemoteAddr ("ip:port", "[ip]:port"),
// without allocating.
func remoteHost(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && !strings.Contains(addr[i:], "]") {
		addr = addr[:i]
	}
	return strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
}
