package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/bench/loadgen"
)

// TestManyViewersGetEveryPart has a few hundred LL-HLS viewers of one demo
// camera follow it with blocking reloads (the load generator of `make
// bench`, bench/viewers): none may see an error or miss a part. Their
// lag is logged, not asserted; BENCHMARKS.md has the figures at scale.
func TestManyViewersGetEveryPart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	s := startServer(t, `
listen: LISTEN
limits: {blockingPerClient: 1000} # the viewers all come from 127.0.0.1
cameras:
  demo1: { source: demo }
`)
	s.waitState(t, "demo1", "live", 10*time.Second)
	k := 300
	if raceEnabled {
		k = 100 // the race detector makes the server several times slower
	}
	r := loadgen.Run(context.Background(), loadgen.Config{
		PlaylistURL: s.URL + "/cams/demo1/video1_stream.m3u8",
		Viewers:     k, Duration: 10 * time.Second, Warmup: 3 * time.Second,
	})
	t.Log(r)
	if r.Errors != 0 {
		t.Errorf("%d failed requests", r.Errors)
	}
	if r.Published < 15 {
		t.Errorf("only %d parts published in the counted 5 s", r.Published)
	}
	if r.Complete != r.Viewers {
		t.Errorf("%d of %d viewers missed parts (least: %.0f %%)", r.Viewers-r.Complete, r.Viewers, 100*r.GotMin)
	}
}
