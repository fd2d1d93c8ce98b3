// Package camera runs the configured cameras: each is an ingest worker
// feeding a segmenter stream. Set holds the running ones and is what the
// HTTP side asks for status and HLS files.
package camera

import (
	"context"
	"log/slog"
	"net/http"
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
// substream, each pulled and muxed on its own.
type Camera struct {
	cfg  config.Camera
	main *feed
	sub  *feed // nil without a substream
}

// feed is one source read into one HLS stream.
type feed struct {
	cfg    config.Camera
	worker *ingest.Worker
	stream *segmenter.Stream
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs a camera reading from src, and its substream from subSrc
// (nil when it has none), until stop.
func start(cfg config.Camera, src, subSrc ingest.Source, log *slog.Logger) *Camera {
	c := &Camera{cfg: cfg, main: startFeed(cfg, src, log)}
	if sub, ok := cfg.SubstreamCamera(); ok && subSrc != nil {
		c.sub = startFeed(sub, subSrc, log)
	}
	return c
}

func startFeed(cfg config.Camera, src ingest.Source, log *slog.Logger) *feed {
	stream := segmenter.NewStream(cfg.Name, cfg.HLS, log)
	f := &feed{
		cfg:    cfg,
		stream: stream,
		worker: &ingest.Worker{
			Name:   cfg.Name,
			Source: src,
			Sink:   stream,
			Log:    log,
		},
		done: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	go func() {
		defer close(f.done)
		f.worker.Run(ctx)
		stream.Close()
	}()
	return f
}

// stop ends the camera and waits until its connections are closed.
func (c *Camera) stop() {
	c.main.cancel()
	if c.sub != nil {
		c.sub.cancel()
		<-c.sub.done
	}
	<-c.main.done
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
	}
	if !ws.LastFrame.IsZero() {
		t := ws.LastFrame.UTC()
		st.LastFrame = &t
	}
	return st
}

// ServeHTTP serves the camera's HLS files.
func (c *Camera) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.main.stream.ServeHTTP(w, r) }
