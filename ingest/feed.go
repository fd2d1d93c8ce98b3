package ingest

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Feed is what a Source writes one connection's media to. It forwards to
// the worker's Sink one call at a time (sources may call it from several
// goroutines, e.g. one per UDP port), keeps the worker's status, and gives
// every frame a capture time.
type Feed struct {
	w *Worker

	mu        sync.Mutex
	started   bool
	audioRate int
	ntpBase   time.Time // wall clock at pts 0, fixed by the first frame
	live      atomic.Bool
	lastVideo atomic.Int64 // unix ns of the last sign of video, for the stall watchdog
}

var errNotStarted = errors.New("ingest: media before Start")

// Start announces the tracks of the connection. It must come before any
// Video or Audio call; an error from the sink ends the connection.
func (f *Feed) Start(t Tracks) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.Video == nil {
		return errors.New("no video track")
	}
	if err := f.w.Sink.Start(t); err != nil {
		return err
	}
	f.started = true
	if t.Audio != nil {
		f.audioRate = t.Audio.ClockRate
	}
	f.Alive()
	return nil
}

// Alive records a sign of video (a packet, even one that does not complete
// a frame), so a camera with a long GOP is not taken for a stalled one.
func (f *Feed) Alive() { f.lastVideo.Store(time.Now().UnixNano()) }

// Waiting tells the status why no media flows yet, e.g. while a publish
// source waits for a publisher.
func (f *Feed) Waiting(reason string) {
	f.w.setState(StateOffline, "", errors.New(reason))
}

// setTransport makes get the answer to which transport the connection
// uses (an RTSP pull asks its client, whose choice may change from UDP to
// TCP while it plays); it is asked when the status is.
func (f *Feed) setTransport(get func() string) { f.w.transport.Store(&get) }

// PacketsLost adds to the count of RTP packets lost on the way.
func (f *Feed) PacketsLost(n uint64) { f.w.status.lost(n) }

// Video delivers one access unit (NAL units without start codes) with its
// pts in 90 kHz units.
func (f *Feed) Video(pts int64, au [][]byte) {
	now := time.Now()
	f.lastVideo.Store(now.UnixNano())
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		return
	}
	if !f.live.Swap(true) {
		f.w.setState(StateLive, "receiving video", nil)
	}
	f.w.status.frame(now)
	f.w.Sink.WriteVideo(pts, f.ntp(pts, 90000), au)
}

// Audio delivers audio frames starting at pts (in the audio clock rate).
func (f *Feed) Audio(pts int64, frames [][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started || f.audioRate == 0 {
		return
	}
	f.w.Sink.WriteAudio(pts, f.ntp(pts, f.audioRate), frames)
}

// ntp maps a pts to a capture time. The first frame fixes the mapping;
// after that capture time runs with the camera's clock, so jitter in
// arrival does not become jitter in the program date time.
func (f *Feed) ntp(pts int64, clockRate int) time.Time {
	// Whole seconds first: pts × 1e9 would overflow after ~28 h at 90 kHz.
	rate := int64(clockRate)
	d := time.Duration(pts/rate)*time.Second + time.Duration(pts%rate)*time.Second/time.Duration(rate)
	if f.ntpBase.IsZero() {
		f.ntpBase = time.Now().Add(-d)
	}
	return f.ntpBase.Add(d)
}
