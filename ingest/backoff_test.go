package ingest

import (
	"testing"
	"time"
)

func TestBackoffGrowsAndCaps(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000, 1000}
	for i, w := range want {
		if got := b.Next(); got != w*time.Millisecond {
			t.Fatalf("delay %d = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	b.Reset()
	if got := b.Next(); got != 100*time.Millisecond {
		t.Fatalf("after Reset = %v, want 100ms", got)
	}
}

func TestBackoffJitterStaysInBoundsAndVaries(t *testing.T) {
	b := Backoff{Min: time.Second, Max: time.Second, Jitter: 0.2}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := b.Next()
		if d < 800*time.Millisecond || d > 1200*time.Millisecond {
			t.Fatalf("delay %v outside 1s ±20%%", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter produced only %d distinct delays in 200 draws", len(seen))
	}
}

func TestDefaultBackoffCapKeepsRecoveryFast(t *testing.T) {
	b := DefaultBackoff()
	var d time.Duration
	for range 1000 { // hours of failures
		d = b.Next()
	}
	if d > 1200*time.Millisecond {
		t.Fatalf("after many failures delay is %v; a returning camera would wait too long", d)
	}
}
