package camera

import (
	"sync"
	"time"
)

// A sample is a feed's byte counts at one time.
type sample struct {
	at      time.Time
	in, out uint64
}

// meter keeps the last few seconds of a feed's samples (one a second),
// for the bitrates over that window.
type meter struct {
	mu   sync.Mutex
	ring [5]sample
	n    int // samples held, up to len(ring)
	next int // where the next one goes
}

func (m *meter) add(s sample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ring[m.next] = s
	m.next = (m.next + 1) % len(m.ring)
	m.n = min(m.n+1, len(m.ring))
}

// rates returns the bits per second in and out from the oldest sample
// held (4 to 5 s ago once the meter has run that long) to cur; 0 over
// less than half a second.
func (m *meter) rates(cur sample) (in, out float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == 0 {
		return 0, 0
	}
	old := m.ring[(m.next-m.n+len(m.ring))%len(m.ring)]
	d := cur.at.Sub(old.at).Seconds()
	if d < 0.5 {
		return 0, 0
	}
	return bitsPerSecond(old.in, cur.in, d), bitsPerSecond(old.out, cur.out, d)
}

func bitsPerSecond(from, to uint64, seconds float64) float64 {
	if to < from {
		return 0
	}
	return float64(to-from) * 8 / seconds
}
