// Package bench holds load tests that need a whole server. The in-process
// one here runs one camera's segmenter.Stream, fed by the built-in demo
// camera over RTSP as in the server, behind an httptest server, and K
// LL-HLS viewers against it, so that the server side can be profiled:
//
//	RTSP2HLS_BENCH=1 RTSP2HLS_VIEWERS=1000 go test -count=1 -v -run TestViewersInProcess \
//	    -cpuprofile /tmp/cpu.out ./bench
//	go tool pprof -top -focus 'segmenter|net/http\.\(\*conn\)' bench.test /tmp/cpu.out
//
// The profile holds the generator too (same process): focus on the server.
package bench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/bench/loadgen"
	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
	"github.com/rtsp2hls/rtsp2hls/segmenter"
)

func TestViewersInProcess(t *testing.T) {
	if os.Getenv("RTSP2HLS_BENCH") == "" {
		t.Skip("a load test: set RTSP2HLS_BENCH=1 (and RTSP2HLS_VIEWERS=K)")
	}
	k := 1000
	if v, err := strconv.Atoi(os.Getenv("RTSP2HLS_VIEWERS")); err == nil && v > 0 {
		k = v
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	demo, err := ingest.StartDemo(log)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	s := segmenter.NewStream("demo1", config.DefaultHLS, log)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w := &ingest.Worker{Name: "demo1", Source: &ingest.RTSPSource{URL: demo.URL(), Transport: config.TransportTCP}, Sink: s, Log: log}
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	srv := httptest.NewServer(s)
	defer srv.Close()
	url := srv.URL + "/cams/demo1/video1_stream.m3u8"
	for i := 0; i < 100; i++ { // bounded: 10 s for the first playlist
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	r := loadgen.Run(context.Background(), loadgen.Config{PlaylistURL: url, Viewers: k, Duration: 20 * time.Second, Warmup: 3 * time.Second})
	t.Log(r)
	if r.Published == 0 {
		t.Fatal("no parts published")
	}
}
