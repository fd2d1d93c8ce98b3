// Package camera runs the configured cameras: each is an ingest worker
// feeding a segmenter stream. Set holds the running ones and is what the
// HTTP side asks for status and HLS files.
package camera

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
	"github.com/rtsp2hls/rtsp2hls/segmenter"
)

// Status is everything the API tells about a camera. Source is redacted.
type Status struct {
	Name          string       `json:"name"`
	Source        string       `json:"source"`
	State         ingest.State `json:"state"`
	Variant       string       `json:"variant"`
	Codec         string       `json:"codec"`
	Width         int          `json:"width"`
	Height        int          `json:"height"`
	FPS           float64      `json:"fps"`
	Audio         string       `json:"audio"`
	LastError     string       `json:"lastError"`
	Reconnects    int          `json:"reconnects"`
	LastFrame     *time.Time   `json:"lastFrame"`
	PacketsLost   uint64       `json:"packetsLost"`
	Frames        uint64       `json:"frames"`
	BytesIn       uint64       `json:"bytesIn"`
	MuxerRestarts int          `json:"muxerRestarts"`
	// Kind is the kind of source (rtsp, publish, rtp, exec, demo).
	Kind string `json:"kind"`
	// Transport is the transport in use by an RTSP camera (tcp, udp,
	// multicast), "" before it connects and for the other kinds.
	Transport string `json:"transport"`
	// BitrateIn and BitrateOut are bits per second over the last seconds:
	// what the camera sends, and what viewers are sent of its HLS.
	BitrateIn  float64 `json:"bitrateIn"`
	BitrateOut float64 `json:"bitrateOut"`
	// BytesOut is the bytes of HLS files served, since start.
	BytesOut uint64 `json:"bytesOut"`
	// Viewers is the clients (address and user agent) that fetched the
	// camera's playlist within the last 10 s.
	Viewers int `json:"viewers"`
	// LiveSince is when the camera last went live, nil while it is not;
	// UptimeSeconds is the time since then.
	LiveSince     *time.Time `json:"liveSince"`
	UptimeSeconds float64    `json:"uptimeSeconds"`
	// OnDemand cameras run only while watched; Running is false while
	// such a camera is stopped for lack of viewers (its State is idle).
	OnDemand bool `json:"onDemand"`
	Running  bool `json:"running"`
	// Substream is the status of the camera's substream (named NAME/sub,
	// its HLS at /cams/NAME/sub/index.m3u8), nil when it has none.
	Substream *Status `json:"substream"`
}

// Camera is one running camera: its main stream and, when configured, its
// substream, each pulled and muxed on its own. It serves its main
// stream's HLS files (ServeHTTP).
type Camera struct {
	cfg  config.Camera
	main *feed
	sub  *feed // nil without a substream

	stopSampling context.CancelFunc
	sampled      chan struct{} // closed when the sampler ended
}

// DefaultStartWait bounds how long a playlist request waits for the first
// segment of a camera that is starting (an on-demand camera's first
// viewer, a restart, the server's start) before it is answered 503.
//
// Getting there takes the connection (RTSP OPTIONS to PLAY: well under a
// second on a LAN, a few round trips more with digest auth or RTSPS), the
// wait for the camera's next IDR (up to one GOP, 1-4 s on real cameras)
// and the first segment, which ends at the first IDR after the segment
// duration (one more GOP): about 9 s for a 4 s GOP. 10 s covers that and
// stays below the players' own bounds (hls.js gives a first playlist
// 20 s, and its media playlist requests 10 s to the first byte), so a
// player opening an on-demand camera just starts, and one whose camera
// does not come up gets a clear 503 rather than its own timeout.
const DefaultStartWait = 10 * time.Second

// A feed is one source read into one HLS stream: the camera's main
// stream or its substream. An on-demand feed runs only while requested:
// the first request starts it, and it stops IdleTimeout after the last.
// It serves its stream's HLS files (ServeHTTP), noting each request.
type feed struct {
	cfg       config.Camera
	onDemand  bool
	startWait time.Duration
	worker    *ingest.Worker
	stream    *segmenter.Stream
	rates     meter

	running atomic.Bool  // the worker runs
	lastReq atomic.Int64 // unix ns of the last request's start or end (on-demand)
	active  atomic.Int64 // requests being served: a held one keeps the feed running

	mu     sync.Mutex // serializes starting and stopping
	cancel context.CancelFunc
	done   chan struct{} // closed when the last run ended (and before the first)
	closed bool          // stopped for good: the camera was removed
	idle   *time.Timer   // on-demand: checks for the idle timeout
}

// start makes a camera reading from src, and its substream from subSrc
// (nil when it has none), and starts them unless they are on demand.
func start(cfg config.Camera, src, subSrc ingest.Source, log *slog.Logger, startWait time.Duration) *Camera {
	c := &Camera{cfg: cfg, main: newFeed(cfg, src, log, startWait), sampled: make(chan struct{})}
	if sub, ok := cfg.SubstreamCamera(); ok && subSrc != nil {
		sub.OnDemand, sub.IdleTimeout = cfg.OnDemand, cfg.IdleTimeout
		c.sub = newFeed(sub, subSrc, log, startWait)
	}
	for _, f := range c.feeds() {
		if f.onDemand {
			f.worker.SetIdle("on demand: starts at the first request")
		} else {
			f.mu.Lock()
			f.startLocked("starting")
			f.mu.Unlock()
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.stopSampling = cancel
	go c.sample(ctx)
	return c
}

func newFeed(cfg config.Camera, src ingest.Source, log *slog.Logger, startWait time.Duration) *feed {
	if cfg.OnDemand && cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = config.DefaultIdleTimeout
	}
	stream := segmenter.NewStream(cfg.Name, cfg.HLS, log)
	done := make(chan struct{})
	close(done)
	return &feed{
		cfg:       cfg,
		onDemand:  cfg.OnDemand,
		startWait: startWait,
		stream:    stream,
		worker: &ingest.Worker{
			Name:   cfg.Name,
			Source: src,
			Sink:   stream,
			Log:    log,
		},
		done: done,
	}
}

// feeds returns the main feed and the substream's, if any.
func (c *Camera) feeds() []*feed {
	if c.sub == nil {
		return []*feed{c.main}
	}
	return []*feed{c.main, c.sub}
}

// startLocked runs the worker, with reason for its log line. Called with
// f.mu held, while not running.
func (f *feed) startLocked(reason string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	f.cancel, f.done = cancel, done
	f.stream.Starting(f.startWait)
	f.running.Store(true)
	go func() {
		defer close(done)
		f.worker.RunBecause(ctx, reason)
		f.stream.Close()
	}()
	if f.onDemand {
		f.lastReq.Store(max(f.lastReq.Load(), time.Now().UnixNano()))
		if f.idle == nil {
			f.idle = time.AfterFunc(f.cfg.IdleTimeout, f.checkIdle)
		} else {
			f.idle.Reset(f.cfg.IdleTimeout)
		}
	}
}

// stopLocked stops the worker and waits until its connections are closed
// and the stream is closed. Called with f.mu held.
func (f *feed) stopLocked() {
	if !f.running.Swap(false) {
		return
	}
	f.cancel()
	<-f.done
}

// touch notes a request for an on-demand feed, and starts it if it is
// idle. While it runs, that costs two atomic operations.
func (f *feed) touch(reason string) {
	if !f.onDemand {
		return
	}
	// Paired with checkIdle, which clears running before it reads active
	// and lastReq: either it sees this request, or this sees it stopping
	// (and waits for the lock to start the feed again).
	f.lastReq.Store(time.Now().UnixNano())
	if f.running.Load() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.running.Load() {
		return
	}
	f.startLocked(reason)
}

// checkIdle stops an on-demand feed that had no request for its
// IdleTimeout, or checks again when it could next be idle.
func (f *feed) checkIdle() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || !f.running.Swap(false) {
		return
	}
	timeout := f.cfg.IdleTimeout
	if f.active.Load() > 0 {
		f.running.Store(true)
		f.idle.Reset(timeout)
		return
	}
	if since := time.Since(time.Unix(0, f.lastReq.Load())); since < timeout {
		f.running.Store(true)
		f.idle.Reset(timeout - since)
		return
	}
	f.cancel()
	<-f.done
	f.worker.SetIdle(fmt.Sprintf("no requests for %v", timeout))
}

// restart stops and starts a running feed; an idle on-demand one stays
// idle (the next request starts it afresh).
func (f *feed) restart() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || !f.running.Load() {
		return
	}
	f.stopLocked()
	f.startLocked("restart requested")
}

// halt stops the feed for good and returns a channel closed when its
// connections are.
func (f *feed) halt() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	if f.idle != nil {
		f.idle.Stop()
	}
	if f.running.Swap(false) {
		f.cancel()
	}
	return f.done
}

// ServeHTTP serves the feed's HLS files, starting an on-demand feed. The
// feed's idle time counts from the end of the last request: one that is
// held (the first playlist of a starting camera, a blocking reload) keeps
// the feed running.
func (f *feed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !f.onDemand {
		f.stream.ServeHTTP(w, r)
		return
	}
	f.active.Add(1)
	defer func() {
		f.lastReq.Store(time.Now().UnixNano())
		f.active.Add(-1)
	}()
	f.touch("requested by a viewer")
	f.stream.ServeHTTP(w, r)
}

// stop ends the camera and waits until its connections are closed.
func (c *Camera) stop() {
	var done []<-chan struct{}
	for _, f := range c.feeds() {
		done = append(done, f.halt())
	}
	for _, d := range done {
		<-d
	}
	c.stopSampling()
	<-c.sampled
}

// restart stops and starts the camera's running feeds, in parallel.
func (c *Camera) restart() {
	var wg sync.WaitGroup
	for _, f := range c.feeds() {
		wg.Go(f.restart)
	}
	wg.Wait()
}

// sample records the feeds' byte counts once a second, for the bitrates.
func (c *Camera) sample(ctx context.Context) {
	defer close(c.sampled)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, f := range c.feeds() {
			in := f.stream.Info()
			f.rates.add(sample{at: time.Now(), in: in.BytesIn, out: in.BytesOut})
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Status returns the camera's current status.
func (c *Camera) Status() Status {
	st := c.main.status()
	if c.sub != nil {
		sub := c.sub.status()
		st.Substream = &sub
	}
	return st
}

func (f *feed) status() Status {
	ws := f.worker.Status()
	in := f.stream.Info()
	now := time.Now()
	bitsIn, bitsOut := f.rates.rates(sample{at: now, in: in.BytesIn, out: in.BytesOut})
	st := Status{
		Name:          f.cfg.Name,
		Source:        f.cfg.Redacted(),
		State:         ws.State,
		Variant:       string(f.cfg.HLS.Variant),
		Codec:         in.Codec,
		Width:         in.Width,
		Height:        in.Height,
		FPS:           in.FPS,
		Audio:         in.Audio,
		LastError:     ws.LastError,
		Reconnects:    ws.Reconnects,
		PacketsLost:   ws.PacketsLost,
		Frames:        in.Frames,
		BytesIn:       in.BytesIn,
		MuxerRestarts: in.Restarts,
		Kind:          string(f.cfg.Kind),
		Transport:     ws.Transport,
		BitrateIn:     bitsIn,
		BitrateOut:    bitsOut,
		BytesOut:      in.BytesOut,
		Viewers:       f.stream.Viewers(),
		OnDemand:      f.onDemand,
		Running:       f.running.Load(),
	}
	if !ws.LastFrame.IsZero() {
		t := ws.LastFrame.UTC()
		st.LastFrame = &t
	}
	if ws.State == ingest.StateLive && !ws.Since.IsZero() {
		t := ws.Since.UTC()
		st.LiveSince = &t
		st.UptimeSeconds = now.Sub(ws.Since).Seconds()
	}
	return st
}

// ServeHTTP serves the camera's HLS files (its main stream's), starting
// an on-demand camera.
func (c *Camera) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.main.ServeHTTP(w, r) }
