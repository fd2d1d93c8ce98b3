package ingest

import (
	"math/rand/v2"
	"time"
)

// Backoff yields capped exponential delays with jitter, so that many
// cameras behind one failed switch do not retry in lockstep, and a camera
// that has been gone for hours is still retried often enough to come back
// within seconds of its return.
type Backoff struct {
	Min    time.Duration // first delay
	Max    time.Duration // cap
	Jitter float64       // fraction of the delay added or removed at random, 0..1

	n int
}

// DefaultBackoff is what workers use: 250 ms doubling to a 1 s cap, ±20 %.
// The cap bounds how long a returning camera waits for its next attempt
// (the picture must be back within 3 s of the camera); one failed TCP
// connect a second costs nothing noticeable, however long a camera is gone.
func DefaultBackoff() Backoff {
	return Backoff{Min: 250 * time.Millisecond, Max: time.Second, Jitter: 0.2}
}

// Next returns the next delay and advances.
func (b *Backoff) Next() time.Duration {
	d := b.Min
	for i := 0; i < b.n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	b.n++
	if b.Jitter > 0 {
		j := (rand.Float64()*2 - 1) * b.Jitter
		d = time.Duration(float64(d) * (1 + j))
	}
	return d
}

// Reset starts over from Min, after a connection that worked.
func (b *Backoff) Reset() { b.n = 0 }
