package segmenter

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// BenchmarkWriteVideo is the cost of one access unit through the stream
// and its LL-HLS muxer (320x180 clip, 1 s GOP).
func BenchmarkWriteVideo(b *testing.B) {
	c := loadClip(b, "320x180")
	s := NewStream("bench", testHLS(config.VariantLowLatency), discard())
	s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH264, SPS: c.sps, PPS: c.pps}})
	defer s.Close()
	b.ReportAllocs()
	pts := int64(0)
	ntp := time.Now()
	for i := 0; b.Loop(); i++ {
		s.WriteVideo(pts, ntp, c.aus[i%len(c.aus)])
		pts += 3600
	}
	if s.Info().Restarts != 0 {
		b.Fatal("muxer restarted")
	}
}

// BenchmarkServeMediaPlaylist is one non-blocking LL-HLS playlist request.
func BenchmarkServeMediaPlaylist(b *testing.B) {
	c := loadClip(b, "320x180")
	s := NewStream("bench", testHLS(config.VariantLowLatency), discard())
	s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH264, SPS: c.sps, PPS: c.pps}})
	defer s.Close()
	feed(s, c, 0, 100, 0)
	r := httptest.NewRequest(http.MethodGet, "/cams/bench/video1_stream.m3u8", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
