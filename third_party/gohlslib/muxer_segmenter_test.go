package gohlslib

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The part duration found for common frame rates: whole frames, no more
// than asked for when whole frames can make it. 1/30 s is not a whole
// number of nanoseconds; that rounding must not cost a frame a part.
func TestFindCompatiblePartDuration(t *testing.T) {
	for _, ca := range []struct {
		name     string
		min      time.Duration
		clock    int
		ticks    int64
		expected time.Duration
	}{
		{"100ms at 30fps", 100 * time.Millisecond, 90000, 3000, 100 * time.Millisecond},
		{"200ms at 30fps", 200 * time.Millisecond, 90000, 3000, 200 * time.Millisecond},
		{"100ms at 25fps", 100 * time.Millisecond, 90000, 3600, 105 * time.Millisecond},
		{"200ms at 25fps", 200 * time.Millisecond, 90000, 3600, 200 * time.Millisecond},
		{"100ms at 29.97fps", 100 * time.Millisecond, 90000, 3003, 100 * time.Millisecond},
		{"100ms at 60fps", 100 * time.Millisecond, 90000, 1500, 100 * time.Millisecond},
	} {
		t.Run(ca.name, func(t *testing.T) {
			sd := timestampToDuration(ca.ticks, ca.clock)
			got := findCompatiblePartDuration(ca.min, map[time.Duration]struct{}{sd: {}})
			require.Equal(t, ca.expected, got)
		})
	}
}
