package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
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

	status    statusBox
	transport atomic.Pointer[func() string] // the current connection's transport, nil when none
	skipped   map[string]bool               // codecs already warned about, so reconnects don't repeat it
}

// Status returns a snapshot of the worker's state.
func (w *Worker) Status() Status {
	st := w.status.get()
	if get := w.transport.Load(); get != nil {
		st.Transport = (*get)()
	}
	return st
}

// Run connects and reconnects until ctx is done. It returns after the
// last connection is closed and the sink has been told to Stop.
func (w *Worker) Run(ctx context.Context) { w.RunBecause(ctx, "starting") }

// RunBecause is Run with the reason the camera starts now ("starting",
// "restart requested", "requested by a viewer"), which the log line of
// its first connecting state gives. A Worker may be run again after a
// Run returned (a restart); its status carries over.
func (w *Worker) RunBecause(ctx context.Context, reason string) {
	if w.Backoff == (Backoff{}) {
		w.Backoff = DefaultBackoff()
	}
	w.Backoff.Reset()
	if w.Log == nil {
		w.Log = slog.Default()
	}
	w.skipped = map[string]bool{}

	for {
		w.setState(StateConnecting, reason, nil)
		wasLive, err := w.session(ctx)
		if ctx.Err() != nil {
			return
		}
		w.status.reconnected()
		w.setState(StateOffline, "", err)
		if wasLive {
			// The camera worked: the next failure is a new outage, so it
			// starts again from the shortest delay.
			w.Backoff.Reset()
		}
		delay := w.Backoff.Next()
		reason = "retrying after " + delay.Round(time.Millisecond).String()
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// SetIdle puts the worker in StateIdle, for a camera whose source is
// stopped until someone watches it (on-demand cameras), with the reason
// for the log. Call it only while Run is not running.
func (w *Worker) SetIdle(reason string) {
	if w.Log == nil {
		w.Log = slog.Default()
	}
	w.transport.Store(nil)
	w.setState(StateIdle, reason, nil)
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
			w.transport.Store(nil)
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

// setState enters st and logs the change, once, with why: err when the
// state is entered because of one (redacted and made printable), reason
// otherwise.
func (w *Worker) setState(st State, reason string, err error) {
	msg := reason
	if err != nil {
		msg = printable(config.Redact(err.Error()))
	}
	changed, repeat := w.status.set(st, msg, err != nil)
	if !changed {
		return
	}
	level := slog.LevelInfo
	if repeat {
		level = slog.LevelDebug // the same failure again: see statusBox.outageErr
	}
	w.Log.Log(context.Background(), level, "camera state", "camera", w.Name, "state", st, "reason", msg)
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
