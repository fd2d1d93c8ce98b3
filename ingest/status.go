package ingest

import (
	"sync"
	"time"
)

// State is where a camera's connection stands.
type State string

// The states of a camera.
const (
	StateConnecting State = "connecting" // dialing, or connected and waiting for the first frame
	StateLive       State = "live"       // frames are arriving
	StateOffline    State = "offline"    // the last attempt failed; waiting to retry
	StateIdle       State = "idle"       // an on-demand camera stopped for lack of viewers
)

// Status is a snapshot of a worker, safe to show to anyone: errors are
// redacted before they are stored.
type Status struct {
	State       State
	LastError   string
	Reconnects  int       // connections lost or failed since start
	LastFrame   time.Time // zero until the first frame
	PacketsLost uint64    // RTP packets lost on the way, all connections
	Since       time.Time // when State was entered
}

// statusBox guards a Status shared between the worker and readers.
type statusBox struct {
	mu sync.Mutex
	s  Status
}

func (b *statusBox) get() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s
}

// set changes the state and reports whether it changed.
func (b *statusBox) set(st State, lastErr string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	changed := b.s.State != st
	if changed {
		b.s.State = st
		b.s.Since = time.Now()
	}
	if lastErr != "" {
		b.s.LastError = lastErr
	}
	return changed
}

func (b *statusBox) frame(t time.Time) {
	b.mu.Lock()
	b.s.LastFrame = t
	b.mu.Unlock()
}

func (b *statusBox) reconnected() {
	b.mu.Lock()
	b.s.Reconnects++
	b.mu.Unlock()
}

func (b *statusBox) lost(n uint64) {
	b.mu.Lock()
	b.s.PacketsLost += n
	b.mu.Unlock()
}
