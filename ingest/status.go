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
	// Transport is the transport of the current RTSP pull ("tcp", "udp"
	// or "multicast", as in config.Transport); "" while not connected and
	// for the other kinds of source.
	Transport string
}

// statusBox guards a Status shared between the worker and readers.
type statusBox struct {
	mu sync.Mutex
	s  Status

	// In an outage (from one live period to the next) each new failure
	// and the retry after it are logged at Info; the same failure over
	// and over again (a camera that is gone for hours, retried every
	// second) at Debug.
	outageErr string // the last failure in this outage
	quiet     bool   // it was a repeat: so is the retry after it
}

func (b *statusBox) get() Status {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.s
}

// set changes the state and reports whether it changed, and whether the
// change is a repeat that needs no Info line (see outageErr).
func (b *statusBox) set(st State, msg string, isErr bool) (changed, repeat bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	changed = b.s.State != st
	if changed {
		b.s.State = st
		b.s.Since = time.Now()
	}
	if isErr && msg != "" {
		b.s.LastError = msg
	}
	if !changed {
		return false, false
	}
	switch st {
	case StateConnecting:
		repeat = b.quiet
	case StateOffline:
		repeat = msg == b.outageErr
		b.outageErr, b.quiet = msg, repeat
	default: // live, idle: the outage is over
		b.outageErr, b.quiet = "", false
	}
	return true, repeat
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
