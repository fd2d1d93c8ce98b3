// Package loadgen is a lean LL-HLS load generator: K viewers that each do
// what hls.js does on a live LL-HLS stream — a blocking playlist reload
// for the next part (_HLS_msn/_HLS_part), then GET the new part(s) — and
// the figures that say how evenly the server served them.
package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config of one run.
type Config struct {
	PlaylistURL string        // the camera's media playlist, e.g. http://127.0.0.1:8080/cams/demo1/video1_stream.m3u8
	Viewers     int           // K
	Duration    time.Duration // whole run, warm-up included
	Warmup      time.Duration // parts first seen before this are not counted
	H2C         bool          // HTTP/2 without TLS (the server speaks it) instead of HTTP/1.1
}

// Result of one run.
type Result struct {
	Viewers        int
	Published      int           // parts first seen inside the counted window
	GotMin, GotAvg float64       // parts a viewer got, as a fraction of Published
	Complete       int           // viewers that got every counted part
	P50, P99, Max  time.Duration // lag behind the first viewer that got the same part
	Errors         int64         // failed requests (status or transport), not counting the end of the run
	Requests       int64
}

func (r Result) String() string {
	return fmt.Sprintf("K=%d parts=%d got min %.1f%% avg %.1f%% complete %d/%d lag p50 %v p99 %v max %v errors %d requests %d",
		r.Viewers, r.Published, 100*r.GotMin, 100*r.GotAvg, r.Complete, r.Viewers,
		r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.Max.Round(time.Millisecond), r.Errors, r.Requests)
}

// parts interns part URIs to small ids, so that a viewer's record of a
// part is two integers and no string is allocated per response (a map
// lookup by string(b) does not allocate).
type parts struct {
	mu  sync.RWMutex
	ids map[string]int32
}

func (p *parts) id(uri []byte) int32 {
	p.mu.RLock()
	id, ok := p.ids[string(uri)]
	p.mu.RUnlock()
	if ok {
		return id
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if id, ok := p.ids[string(uri)]; ok {
		return id
	}
	id = int32(len(p.ids))
	p.ids[string(uri)] = id
	return id
}

type record struct {
	part int32
	at   int64 // unix ns when the part's body was complete
}

type viewer struct {
	client  *http.Client // H2C; nil: raw
	raw     *rawClient   // HTTP/1.1
	origin  string       // "http://host:port", cut from URLs for raw
	base    string       // PlaylistURL up to and including the last '/'
	body    bytes.Buffer
	zr      *gzip.Reader
	rawZR   gzipReader
	copyBuf []byte
	seen    map[int32]bool // parts fetched or present at start, pruned as they leave
	live    map[int32]bool // parts in the last playlist (reused)
	uris    [][]byte       // part URIs of the last playlist (reused)
	recs    []record
	errs    int64
	reqs    int64
}

// Run runs cfg.Viewers viewers for cfg.Duration and returns the figures.
func Run(ctx context.Context, cfg Config) Result {
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	base := cfg.PlaylistURL[:bytes.LastIndexByte([]byte(cfg.PlaylistURL), '/')+1]
	pt := &parts{ids: map[string]int32{}}
	start := time.Now()
	vs := make([]*viewer, cfg.Viewers)
	var wg sync.WaitGroup
	origin := base
	if i := strings.Index(base, "://"); i >= 0 {
		if j := strings.IndexByte(base[i+3:], '/'); j >= 0 {
			origin = base[:i+3+j]
		}
	}
	for i := range vs {
		// One keep-alive connection per viewer: what a browser tab has.
		// HTTP/1.1 spoken by hand (rawClient) unless H2C (browsers speak
		// HTTP/2 to the server only over TLS): net/http's client for that.
		v := &viewer{base: base, origin: origin, copyBuf: make([]byte, 32<<10),
			seen: map[int32]bool{}, live: map[int32]bool{}, recs: make([]record, 0, int(cfg.Duration/(150*time.Millisecond))+16)}
		closeConn := func() {}
		if cfg.H2C {
			tr := &http.Transport{
				DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
				MaxIdleConnsPerHost: 1,
				MaxConnsPerHost:     1,
				DisableCompression:  true, // we ask for gzip ourselves and inflate into a reused buffer
				IdleConnTimeout:     time.Minute,
			}
			tr.Protocols = new(http.Protocols)
			tr.Protocols.SetUnencryptedHTTP2(true)
			v.client = &http.Client{Transport: tr}
			closeConn = tr.CloseIdleConnections
		} else {
			raw, err := newRawClient(base)
			if err != nil {
				v.errs++
				vs[i] = v
				continue
			}
			v.raw = raw
			closeConn = raw.close
		}
		vs[i] = v
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer closeConn()
			// Stagger the starts over a second, like viewers arriving.
			d := time.Duration(i) * time.Second / time.Duration(cfg.Viewers)
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return
			}
			v.run(ctx, cfg.PlaylistURL, pt)
		}()
	}
	wg.Wait()
	end := time.Now()
	return summarize(cfg, vs, start, end)
}

func summarize(cfg Config, vs []*viewer, start, end time.Time) Result {
	res := Result{Viewers: len(vs)}
	first := map[int32]int64{}
	for _, v := range vs {
		res.Errors += v.errs
		res.Requests += v.reqs
		for _, r := range v.recs {
			if f, ok := first[r.part]; !ok || r.at < f {
				first[r.part] = r.at
			}
		}
	}
	// Counted: parts first seen after the warm-up and at least 2 s before
	// the end, so that a slow viewer had its chance to get them too.
	lo, hi := start.Add(cfg.Warmup).UnixNano(), end.Add(-2*time.Second).UnixNano()
	counted := map[int32]bool{}
	for p, f := range first {
		if f >= lo && f <= hi {
			counted[p] = true
		}
	}
	res.Published = len(counted)
	if res.Published == 0 {
		return res
	}
	var lags []int64
	res.GotMin = 1
	for _, v := range vs {
		got := 0
		for _, r := range v.recs {
			if counted[r.part] {
				got++
				lags = append(lags, r.at-first[r.part])
			}
		}
		frac := float64(got) / float64(res.Published)
		res.GotMin = min(res.GotMin, frac)
		res.GotAvg += frac / float64(len(vs))
		if got >= res.Published {
			res.Complete++
		}
	}
	slices.Sort(lags)
	if len(lags) > 0 {
		res.P50 = time.Duration(lags[len(lags)/2])
		res.P99 = time.Duration(lags[len(lags)*99/100])
		res.Max = time.Duration(lags[len(lags)-1])
	}
	return res
}

func (v *viewer) run(ctx context.Context, playlistURL string, pt *parts) {
	url := playlistURL
	firstLoad := true
	for ctx.Err() == nil {
		if !v.get(ctx, url, true) {
			// Back off like a player would after an error, bounded by ctx.
			select {
			case <-time.After(200 * time.Millisecond):
			case <-ctx.Done():
			}
			url = playlistURL
			firstLoad = true
			continue
		}
		var msn, part int
		msn, part, v.uris = parsePlaylist(v.body.Bytes(), v.uris[:0])
		live := v.live
		clear(live)
		for _, u := range v.uris {
			id := pt.id(u)
			live[id] = true
			if v.seen[id] {
				continue
			}
			v.seen[id] = true
			if firstLoad {
				continue // a player starts at the live edge: only new parts are timed
			}
			if v.get(ctx, v.base+string(u), false) {
				v.recs = append(v.recs, record{part: id, at: time.Now().UnixNano()})
			}
		}
		for id := range v.seen {
			if !live[id] {
				delete(v.seen, id)
			}
		}
		firstLoad = false
		if msn < 0 {
			url = playlistURL
			continue
		}
		url = playlistURL + "?_HLS_msn=" + strconv.Itoa(msn) + "&_HLS_part=" + strconv.Itoa(part)
	}
}

// get fetches url; a playlist's body is kept (inflated) in v.body, a
// part's is copied into a reused buffer and dropped.
func (v *viewer) get(ctx context.Context, url string, playlist bool) bool {
	if v.raw != nil {
		v.reqs++
		var body *bytes.Buffer
		if playlist {
			body = &v.body
		}
		err := v.raw.get(ctx, strings.TrimPrefix(url, v.origin), body, &v.rawZR)
		if err != nil && ctx.Err() == nil {
			v.errs++
		}
		return err == nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		v.errs++
		return false
	}
	if playlist {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	v.reqs++
	resp, err := v.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			v.errs++
		}
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.CopyBuffer(io.Discard, resp.Body, v.copyBuf) //nolint:errcheck // draining to keep the connection
		if ctx.Err() == nil {
			v.errs++
		}
		return false
	}
	if !playlist {
		_, err = io.CopyBuffer(io.Discard, onlyReader{resp.Body}, v.copyBuf)
	} else {
		v.body.Reset()
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if v.zr == nil {
				v.zr, err = gzip.NewReader(resp.Body)
			} else {
				err = v.zr.Reset(resp.Body)
			}
			r = v.zr
		}
		if err == nil {
			_, err = v.body.ReadFrom(r)
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			v.errs++
		}
		return false
	}
	return true
}

// onlyReader hides io.WriterTo so that io.CopyBuffer uses our buffer.
type onlyReader struct{ io.Reader }

var (
	tagSeq   = []byte("#EXT-X-MEDIA-SEQUENCE:")
	tagInf   = []byte("#EXTINF:")
	tagPart  = []byte("#EXT-X-PART:")
	attrURI  = []byte(`URI="`)
	tagSkip  = []byte("#EXT-X-SKIP:")
	attrSkip = []byte("SKIPPED-SEGMENTS=")
)

// parsePlaylist returns the next part to ask for (msn, part index; msn
// -1 if the playlist has no parts) and the part URIs, which point into pl,
// appended to uris.
func parsePlaylist(pl []byte, uris [][]byte) (msn, part int, _ [][]byte) {
	seq, segs := -1, 0
	partsAfter := 0
	for len(pl) > 0 {
		line := pl
		if i := bytes.IndexByte(pl, '\n'); i >= 0 {
			line, pl = pl[:i], pl[i+1:]
		} else {
			pl = nil
		}
		line = bytes.TrimRight(line, "\r")
		switch {
		case bytes.HasPrefix(line, tagSeq):
			seq = atoi(line[len(tagSeq):])
		case bytes.HasPrefix(line, tagSkip):
			if i := bytes.Index(line, attrSkip); i >= 0 {
				segs += atoi(line[i+len(attrSkip):])
			}
		case bytes.HasPrefix(line, tagInf):
			segs++
			partsAfter = 0
		case bytes.HasPrefix(line, tagPart):
			partsAfter++
			if i := bytes.Index(line, attrURI); i >= 0 {
				u := line[i+len(attrURI):]
				if j := bytes.IndexByte(u, '"'); j >= 0 {
					uris = append(uris, u[:j])
				}
			}
		}
	}
	if seq < 0 || len(uris) == 0 {
		return -1, 0, uris
	}
	return seq + segs, partsAfter, uris
}

// atoi reads the decimal number at the start of b (no allocation).
func atoi(b []byte) int {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}
