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
}

// Camera is one running camera.
type Camera struct {
	cfg    config.Camera
	worker *ingest.Worker
	stream *segmenter.Stream
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs a camera reading from src until stop.
func start(cfg config.Camera, src ingest.Source, log *slog.Logger) *Camera {
	stream := segmenter.NewStream(cfg.Name, cfg.HLS, log)
	c := &Camera{
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
	c.cancel = cancel
	go func() {
		defer close(c.done)
		c.worker.Run(ctx)
		stream.Close()
	}()
	return c
}

// stop ends the camera and waits until its connection is closed.
func (c *Camera) stop() {
	c.cancel()
	<-c.done
}

// Status returns the camera's current status.
func (c *Camera) Status() Status {
	ws := c.worker.Status()
	in := c.stream.Info()
	st := Status{
		Name:          c.cfg.Name,
		Source:        c.cfg.Redacted(),
		State:         ws.State,
		Variant:       string(c.cfg.HLS.Variant),
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
func (c *Camera) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.stream.ServeHTTP(w, r) }
