package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// DefaultReadTimeout is how long a camera may send no video before its
// connection is treated as lost. Cameras send 10+ frames a second, so a few
// seconds of silence means the stream is gone even if TCP is still open.
const DefaultReadTimeout = 5 * time.Second

// Source is one way media gets in: an RTSP camera, a publisher, raw RTP,
// a command. Read runs one connection: it calls feed.Start with the tracks
// once they are known, then delivers frames, and returns when the
// connection ends (with why) or ctx is done. The Worker around it retries.
type Source interface {
	Read(ctx context.Context, feed *Feed) error
}

// Worker keeps one camera's source connected for as long as its context
// lives: read, and on any loss wait a backoff and read again. This file is
// a camera's whole life; the sources only know how to connect once.
type Worker struct {
	Name   string
	Source Source
	Sink   Sink
	Log    *slog.Logger
	// ReadTimeout: no video for this long once started means the stream
	// is lost. Zero means DefaultReadTimeout.
	ReadTimeout time.Duration
	// Backoff between attempts. The zero value means DefaultBackoff.
	Backoff Backoff

	status  statusBox
	skipped map[string]bool // codecs already warned about, so reconnects don't repeat it
}

// Status returns a snapshot of the worker's state.
func (w *Worker) Status() Status { return w.status.get() }

// Run connects and reconnects until ctx is done. It returns after the
// last connection is closed and the sink has been told to Stop.
func (w *Worker) Run(ctx context.Context) {
	if w.Backoff == (Backoff{}) {
		w.Backoff = DefaultBackoff()
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	w.skipped = map[string]bool{}

	for {
		w.setState(StateConnecting, nil)
		wasLive, err := w.session(ctx)
		if ctx.Err() != nil {
			return
		}
		w.status.reconnected()
		w.setState(StateOffline, err)
		if wasLive {
			// The camera worked: the next failure is a new outage, so it
			// starts again from the shortest delay.
			w.Backoff.Reset()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.Backoff.Next()):
		}
	}
}

// session runs one Read with the stall watchdog around it.
func (w *Worker) session(ctx context.Context) (wasLive bool, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	feed := &Feed{w: w}
	done := make(chan error, 1)
	go func() { done <- w.Source.Read(ctx, feed) }()

	tick := time.NewTicker(w.readTimeout() / 4)
	defer tick.Stop()
	for {
		select {
		case err = <-done:
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				err = cause // the watchdog ended it: say so rather than "closed"
			}
			if err == nil {
				err = errors.New("stream ended")
			}
			feed.mu.Lock()
			started := feed.started
			feed.started = false // late frames from the ending read go nowhere
			feed.mu.Unlock()
			if started {
				w.Sink.Stop(err)
			}
			return feed.live.Load(), err
		case <-tick.C:
			if !feed.isStarted() {
				continue // sources bound their own connect and wait phases
			}
			if since := time.Since(time.Unix(0, feed.lastVideo.Load())); since > w.readTimeout() {
				cancel(fmt.Errorf("no video for %s", since.Round(time.Second)))
			}
		}
	}
}

func (f *Feed) isStarted() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started
}

func (w *Worker) setState(st State, err error) {
	msg := ""
	if err != nil {
		msg = printable(config.Redact(err.Error()))
	}
	if w.status.set(st, msg) {
		if err != nil {
			w.Log.Warn("camera state", "camera", w.Name, "state", st, "reason", msg)
		} else {
			w.Log.Info("camera state", "camera", w.Name, "state", st)
		}
	}
}

func (w *Worker) readTimeout() time.Duration {
	if w.ReadTimeout > 0 {
		return w.ReadTimeout
	}
	return DefaultReadTimeout
}

// skip logs, once per worker, that a codec is not passed through.
func (w *Worker) skip(codec string) {
	if w.skipped[codec] {
		return
	}
	w.skipped[codec] = true
	w.Log.Warn("skipping track: only H264/H265 video and AAC/Opus audio pass through; "+
		"to keep the audio, have the camera send AAC or convert it (see README: audio)",
		"camera", w.Name, "codec", codec)
}

// printable makes an error fit for logs and the API: a hostile camera's
// bytes can end up in error text, so control characters and invalid UTF-8
// are replaced and the length is bounded.
func printable(s string) string {
	const maxLen = 300
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > maxLen {
		s = strings.ToValidUTF8(s[:maxLen], "") + "…"
	}
	return s
}
