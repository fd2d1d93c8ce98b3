package ingest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// recordSink remembers what a worker told it.
type recordSink struct {
	mu      sync.Mutex
	starts  []Tracks
	frames  int
	lastPTS int64
	stops   []error
	backPTS bool
}

func (s *recordSink) Start(t Tracks) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts = append(s.starts, t)
	return nil
}
func (s *recordSink) WriteVideo(pts int64, _ time.Time, _ [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frames > 0 && pts <= s.lastPTS {
		s.backPTS = true
	}
	s.frames++
	s.lastPTS = pts
}
func (s *recordSink) WriteAudio(int64, time.Time, [][]byte) {}
func (s *recordSink) Stop(err error)                        { s.mu.Lock(); s.stops = append(s.stops, err); s.mu.Unlock() }

func (s *recordSink) snapshot() (starts, frames, stops int, back bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.starts), s.frames, len(s.stops), s.backPTS
}

// runWorker runs w until the test ends.
func runWorker(t *testing.T, w *Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWorkerPullsLosesAndRetries(t *testing.T) {
	demo, err := StartDemo(discardLog())
	if err != nil {
		t.Fatal(err)
	}
	sink := &recordSink{}
	w := &Worker{Name: "d", Source: &RTSPSource{URL: demo.URL(), Transport: config.TransportTCP}, Sink: sink, Log: discardLog(),
		Backoff: Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}}
	runWorker(t, w)

	waitUntil(t, "live with 30 frames", func() bool {
		_, frames, _, _ := sink.snapshot()
		return w.Status().State == StateLive && frames >= 30
	})
	sink.mu.Lock()
	tr := sink.starts[0]
	sink.mu.Unlock()
	if tr.Video == nil || tr.Video.SPS == nil || tr.Video.PPS == nil {
		t.Fatalf("tracks from the SDP lack SPS/PPS: %+v", tr.Video)
	}
	if _, _, _, back := sink.snapshot(); back {
		t.Fatal("pts went backwards")
	}

	demo.Close() // the camera goes away
	waitUntil(t, "offline", func() bool { return w.Status().State == StateOffline })
	waitUntil(t, "several retries", func() bool { return w.Status().Reconnects >= 3 })
	st := w.Status()
	if st.LastError == "" || st.LastFrame.IsZero() {
		t.Fatalf("status after loss = %+v", st)
	}
	starts, _, stops, _ := sink.snapshot()
	if starts != 1 || stops != 1 {
		t.Fatalf("sink got %d starts and %d stops, want 1 and 1 (failed attempts must not reach it)", starts, stops)
	}
}

func TestWorkerStopsOnCancelWhileConnecting(t *testing.T) {
	w := &Worker{Name: "x", Source: &RTSPSource{URL: "rtsp://127.0.0.1:1/none"}, Sink: &recordSink{}, Log: discardLog()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("worker did not stop")
	}
}

// The demo clip loops; its timestamps must not (a camera's clock never
// jumps back, and a jump would restart the muxer every loop).
func TestDemoTimestampsKeepRunningAcrossLoops(t *testing.T) {
	aus, sps, pps, err := demoAccessUnits()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := startDemo(discardLog(), aus[:5], sps, pps, demoOptions{}) // 5 frames: one IDR, loops every 200 ms
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	sink := &recordSink{}
	w := &Worker{Name: "d", Source: &RTSPSource{URL: demo.URL(), Transport: config.TransportTCP}, Sink: sink, Log: discardLog()}
	runWorker(t, w)

	waitUntil(t, "frames from 5 loops", func() bool {
		_, frames, _, _ := sink.snapshot()
		return frames >= 25
	})
	_, frames, stops, back := sink.snapshot()
	if back {
		t.Fatal("pts went backwards when the clip looped")
	}
	if stops != 0 {
		t.Fatalf("connection lost %d times while looping", stops)
	}
	sink.mu.Lock()
	last := sink.lastPTS
	sink.mu.Unlock()
	if last < int64(frames-1)*90000/demoFPS-90000/demoFPS {
		t.Fatalf("after %d frames pts is %d: timestamps restarted", frames, last)
	}
}

// Capture times stay right on a connection that runs for days (pts × 1e9
// overflows int64 after ~28 h at 90 kHz).
func TestCaptureTimeAfterDays(t *testing.T) {
	f := &Feed{}
	base := f.ntp(0, 90000)
	week := int64(7*24*3600) * 90000
	if got := f.ntp(week, 90000).Sub(base); got != 7*24*time.Hour {
		t.Fatalf("a week of pts maps to %v", got)
	}
}
