package segmenter

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// clip is an H.264 test clip as a camera that sends SPS/PPS only in the
// SDP would deliver it: parameter sets apart, access units without them.
type clip struct {
	sps, pps []byte
	aus      [][][]byte
}

// loadClip reads testdata/NAME.h264 (x264 with aud=1: one AUD per access
// unit, SPS/PPS once at the start; 25 fps, an IDR every 25 frames).
func loadClip(t testing.TB, name string) clip {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name + ".h264")
	if err != nil {
		t.Fatal(err)
	}
	var c clip
	var cur [][]byte
	for _, n := range ingest.SplitAnnexB(data) {
		switch h264.NALUType(n[0] & 0x1F) {
		case h264.NALUTypeAccessUnitDelimiter:
			if len(cur) > 0 {
				c.aus = append(c.aus, cur)
			}
			cur = nil
		case h264.NALUTypeSPS:
			c.sps = n
		case h264.NALUTypePPS:
			c.pps = n
		default:
			cur = append(cur, n)
		}
	}
	if len(cur) > 0 {
		c.aus = append(c.aus, cur)
	}
	if c.sps == nil || c.aus == nil {
		t.Fatalf("%s: no SPS or frames", name)
	}
	return c
}

func testHLS(v config.Variant) config.HLS {
	return config.HLS{Variant: v, SegmentDuration: time.Second, PartDuration: 200 * time.Millisecond, SegmentCount: 7}
}

// feed writes frames [from, to) of c at 25 fps starting at pts0.
func feed(s *Stream, c clip, from, to int, pts0 int64) (next int64) {
	pts := pts0
	for i := from; i < to; i++ {
		s.WriteVideo(pts, time.Unix(0, 0).Add(time.Duration(pts)*time.Second/90000), c.aus[i%len(c.aus)])
		pts += 90000 / 25
	}
	return pts
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

func newTestStream(t *testing.T, c clip, v config.Variant) *Stream {
	s := NewStream("test", testHLS(v), nil)
	if err := s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH264, SPS: c.sps, PPS: c.pps}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestWithParamsPutsParameterSetsInFrontOfIDR(t *testing.T) {
	vps, sps, pps, idr := []byte{0x40, 1}, []byte{0x67, 1}, []byte{0x68, 2}, []byte{0x65, 3}
	s := &Stream{vps: vps, sps: sps, pps: pps}
	cases := []struct {
		name   string
		has    [numParams]bool
		isH265 bool
		want   [][]byte
	}{
		{"H.264, none in band", [numParams]bool{}, false, [][]byte{sps, pps, idr}},
		{"H.264, PPS in band", [numParams]bool{nalPPS: true}, false, [][]byte{sps, idr}},
		{"H.264, both in band", [numParams]bool{nalSPS: true, nalPPS: true}, false, [][]byte{idr}},
		{"H.265, none in band", [numParams]bool{}, true, [][]byte{vps, sps, pps, idr}},
	}
	for _, c := range cases {
		got := s.withParams([][]byte{idr}, c.has, c.isH265)
		if len(got) != len(c.want) {
			t.Fatalf("%s: got %x, want %x", c.name, got, c.want)
		}
		for i := range c.want {
			if !bytes.Equal(got[i], c.want[i]) {
				t.Fatalf("%s: NAL %d = %x, want %x", c.name, i, got[i], c.want[i])
			}
		}
	}
}

func TestLowLatencyPlaylistFromSDPOnlyParameterSets(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 100, 0)

	mv := get(t, s, "/cams/test/index.m3u8")
	if mv.Code != 200 || !strings.Contains(mv.Body.String(), "#EXT-X-STREAM-INF") {
		t.Fatalf("index.m3u8: %d %q", mv.Code, mv.Body.String())
	}
	if !strings.Contains(mv.Body.String(), "RESOLUTION=160x90") {
		t.Fatalf("multivariant playlist lacks the SPS resolution: %q", mv.Body.String())
	}
	pl := get(t, s, "/cams/test/video1_stream.m3u8")
	body := pl.Body.String()
	for _, want := range []string{"#EXT-X-PART-INF", "CAN-BLOCK-RELOAD=YES", "#EXT-X-PRELOAD-HINT", "#EXT-X-PART:"} {
		if !strings.Contains(body, want) {
			t.Errorf("media playlist lacks %s:\n%s", want, body)
		}
	}
	if ct := pl.Header().Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		t.Errorf("Content-Type = %q", ct)
	}
	// The init file must carry the parameter sets that came only in the SDP.
	initName := regexp.MustCompile(`[A-Za-z0-9_]+_init\.mp4`).FindString(body)
	in := get(t, s, "/cams/test/"+initName)
	if in.Code != 200 || !bytes.Contains(in.Body.Bytes(), c.sps) {
		t.Fatalf("init %s: code %d, has SPS %v", initName, in.Code, bytes.Contains(in.Body.Bytes(), c.sps))
	}
	if info := s.Info(); info.Width != 160 || info.Height != 90 || info.FPS != 25 || !info.Live {
		t.Fatalf("info = %+v", info)
	}
}

func TestGzipPlaylistWhenAsked(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 100, 0)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/cams/test/video1_stream.m3u8", nil)
	r.Header.Set("Accept-Encoding", "gzip, br")
	s.ServeHTTP(w, r)
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip: headers %v", w.Header())
	}
}

func TestRestartOnTimestampJump(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	pts := feed(s, c, 0, 60, 0)
	before := get(t, s, "/cams/test/video1_stream.m3u8").Body.String()

	// The camera's clock jumps a minute ahead, then back before zero.
	pts = feed(s, c, 75, 150, pts+60*90000)
	if got := s.Info().Restarts; got != 1 {
		t.Fatalf("after forward jump: %d restarts, want 1", got)
	}
	feed(s, c, 0, 75, pts-3600*90000)
	if got := s.Info().Restarts; got != 2 {
		t.Fatalf("after backward jump: %d restarts, want 2", got)
	}
	after := get(t, s, "/cams/test/video1_stream.m3u8")
	if after.Code != 200 || !strings.Contains(after.Body.String(), "#EXTINF") {
		t.Fatalf("no playlist after restart: %d %q", after.Code, after.Body.String())
	}
	// A new muxer means new file names, so old part URLs cannot mix with new.
	if prefix(before) == prefix(after.Body.String()) {
		t.Fatalf("muxer was not replaced: same file prefix %q", prefix(before))
	}
}

func prefix(playlist string) string {
	return regexp.MustCompile(`([A-Za-z0-9]+)_video1_`).FindString(playlist)
}

func TestRestartOnNewSPS(t *testing.T) {
	small, big := loadClip(t, "160x90"), loadClip(t, "320x180")
	s := newTestStream(t, small, config.VariantLowLatency)
	pts := feed(s, small, 0, 60, 0)

	// The camera changes resolution: the new SPS and PPS arrive in band
	// in front of the next IDR.
	idr := append([][]byte{big.sps, big.pps}, big.aus[0]...)
	s.WriteVideo(pts, time.Now(), idr)
	feed(s, big, 1, 75, pts+3600)

	if got := s.Info().Restarts; got != 1 {
		t.Fatalf("%d restarts, want 1", got)
	}
	if info := s.Info(); info.Width != 320 || info.Height != 180 {
		t.Fatalf("resolution after change = %dx%d, want 320x180", info.Width, info.Height)
	}
	if mv := get(t, s, "/cams/test/index.m3u8").Body.String(); !strings.Contains(mv, "RESOLUTION=320x180") {
		t.Fatalf("playlist still has the old resolution: %q", mv)
	}
}

func TestUnknownFilesAre404(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 60, 0)
	for _, p := range []string{"/cams/test/nosuch.mp4", "/cams/test/abc_video1_seg999999.mp4", "/cams/test/x.txt", "/cams/test/..%2fetc"} {
		if w := get(t, s, p); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, w.Code)
		}
	}
}

func TestMPEGTSAndFMP4Variants(t *testing.T) {
	c := loadClip(t, "160x90")
	for _, v := range []config.Variant{config.VariantMPEGTS, config.VariantFMP4} {
		s := newTestStream(t, c, v)
		feed(s, c, 0, 100, 0)
		pl := get(t, s, "/cams/test/index.m3u8").Body.String()
		if !strings.Contains(pl, "#EXT") {
			t.Fatalf("%s: %q", v, pl)
		}
		if v == config.VariantMPEGTS && !strings.Contains(get(t, s, "/cams/test/main_stream.m3u8").Body.String(), ".ts") {
			t.Fatalf("mpegts playlist has no .ts segment")
		}
	}
}

// A blocking reload waits in gohlslib until the muxer moves on; when the
// camera is lost the request must end, not hang.
func TestBlockedRequestReleasedWhenSourceLost(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 60, 0)
	pl := get(t, s, "/cams/test/video1_stream.m3u8").Body.String()
	msn := regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`).FindStringSubmatch(pl)
	if msn == nil {
		t.Fatalf("no media sequence in %q", pl)
	}
	// Ask for a part that does not exist yet: the next segment's part 0.
	next := nextMSN(pl)
	done := make(chan int)
	go func() {
		done <- get(t, s, "/cams/test/video1_stream.m3u8?_HLS_msn="+next+"&_HLS_part=0").Code
	}()
	select {
	case code := <-done:
		t.Fatalf("request did not block (code %d)", code)
	case <-time.After(200 * time.Millisecond):
	}
	s.Stop(io.EOF)
	select {
	case code := <-done:
		if code != http.StatusServiceUnavailable {
			t.Fatalf("released request answered %d, want 503 (temporary)", code)
		}
	case <-time.After(time.Second):
		t.Fatal("blocked request still hangs after the source was lost")
	}
}

func nextMSN(pl string) string {
	segs := regexp.MustCompile(`_seg(\d+)\.mp4`).FindAllStringSubmatch(pl, -1)
	n, _ := strconv.Atoi(segs[len(segs)-1][1])
	return strconv.Itoa(n + 2)
}

func TestNoRequestOutlivesMaxWait(t *testing.T) {
	s := NewStream("test", config.HLS{Variant: config.VariantLowLatency, SegmentDuration: 100 * time.Millisecond,
		PartDuration: 20 * time.Millisecond, SegmentCount: 7}, nil)
	defer s.Close()
	start := time.Now()
	w := get(t, s, "/cams/test/index.m3u8") // no camera: nothing will ever come
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("code %d, want 503", w.Code)
	}
	if el := time.Since(start); el > s.MaxWait()+time.Second {
		t.Fatalf("request took %v, bound is %v", el, s.MaxWait())
	}
}

func TestClientDisconnectEndsWait(t *testing.T) {
	s := NewStream("test", testHLS(config.VariantLowLatency), nil)
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodGet, "/cams/test/index.m3u8", nil).WithContext(ctx)
	done := make(chan struct{})
	go func() { s.ServeHTTP(httptest.NewRecorder(), r); close(done) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(500 * time.Millisecond):
		t.Fatal("handler still waiting after the client went away")
	}
}

// A small step back in time is below the jump threshold but still breaks
// gohlslib ("DTS is not monotonically increasing"): the muxer error must
// restart the muxer, not end the stream.
func TestRestartOnMuxerError(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	pts := feed(s, c, 0, 30, 0)
	feed(s, c, 30, 35, pts-5*3600) // 200 ms back
	if got := s.Info().Restarts; got != 1 {
		t.Fatalf("%d restarts after a muxer error, want 1", got)
	}
	feed(s, c, 50, 100, pts+3600)
	if pl := get(t, s, "/cams/test/video1_stream.m3u8"); pl.Code != 200 || !strings.Contains(pl.Body.String(), "#EXTINF") {
		t.Fatalf("no playlist after the restart: %d", pl.Code)
	}
}

// loadH265 reads testdata/160x90.h265 (x265, AUD per access unit,
// VPS/SPS/PPS once at the start, an IRAP every 25 frames).
func loadH265(t testing.TB) (vps, sps, pps []byte, aus [][][]byte) {
	t.Helper()
	data, err := os.ReadFile("testdata/160x90.h265")
	if err != nil {
		t.Fatal(err)
	}
	var cur [][]byte
	for _, n := range ingest.SplitAnnexB(data) {
		switch (n[0] >> 1) & 0x3f {
		case 35: // AUD
			if len(cur) > 0 {
				aus = append(aus, cur)
			}
			cur = nil
		case 32:
			vps = n
		case 33:
			sps = n
		case 34:
			pps = n
		default:
			cur = append(cur, n)
		}
	}
	return vps, sps, pps, append(aus, cur)
}

func TestH265PassesThrough(t *testing.T) {
	vps, sps, pps, aus := loadH265(t)
	s := NewStream("test", testHLS(config.VariantLowLatency), nil)
	defer s.Close()
	if err := s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH265, VPS: vps, SPS: sps, PPS: pps}}); err != nil {
		t.Fatal(err)
	}
	for i, au := range aus {
		s.WriteVideo(int64(i)*3600, time.Now(), au)
	}
	mv := get(t, s, "/cams/test/index.m3u8").Body.String()
	if !strings.Contains(mv, `CODECS="hvc1.`) || !strings.Contains(mv, "RESOLUTION=160x90") {
		t.Fatalf("multivariant playlist: %q", mv)
	}
	if info := s.Info(); info.Codec != "H265" || info.Width != 160 || !info.Live {
		t.Fatalf("info = %+v", info)
	}
}

func TestH265RefusedByMPEGTS(t *testing.T) {
	vps, sps, pps, _ := loadH265(t)
	s := NewStream("test", testHLS(config.VariantMPEGTS), nil)
	err := s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH265, VPS: vps, SPS: sps, PPS: pps}})
	if err == nil || !strings.Contains(err.Error(), "fmp4 or lowLatency") {
		t.Fatalf("Start = %v, want an error naming the variants that carry H.265", err)
	}
}

// A camera that reconnects with the same media continues the same muxer:
// same file names, media sequence going on, so a waiting player simply
// gets the next part. Its new connection's timestamps start from zero and
// are shifted to follow on; frames before its first IDR are dropped.
func TestReconnectContinuesMuxer(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 60, 0)
	before := get(t, s, "/cams/test/video1_stream.m3u8").Body.String()

	s.Stop(io.EOF)
	if s.Info().Live {
		t.Fatal("stream still live after the source was lost")
	}
	// While the camera is away, the playlist is still served.
	if w := get(t, s, "/cams/test/video1_stream.m3u8"); w.Code != 200 {
		t.Fatalf("playlist during the outage: %d", w.Code)
	}
	if err := s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH264, SPS: c.sps, PPS: c.pps}}); err != nil {
		t.Fatal(err)
	}
	// The new connection starts mid-GOP at pts 0: frames 10..24 are not
	// decodable without their IDR and must not reach the muxer.
	feed(s, c, 10, 25, 0)
	feed(s, c, 25, 100, 15*3600)
	after := get(t, s, "/cams/test/video1_stream.m3u8").Body.String()

	if got := s.Info().Restarts; got != 0 {
		t.Fatalf("%d muxer restarts, want 0", got)
	}
	if prefix(before) != prefix(after) {
		t.Fatalf("file prefix changed from %q to %q: the muxer was replaced", prefix(before), prefix(after))
	}
	if nextMSN(after) <= nextMSN(before) {
		t.Fatalf("media sequence did not go on: %s then %s", nextMSN(before), nextMSN(after))
	}
	if !s.Info().Live {
		t.Fatal("not live after the camera came back")
	}
}

// A camera that comes back with other media (here: other resolution)
// gets a new muxer.
func TestReconnectWithNewResolutionRestartsMuxer(t *testing.T) {
	small, big := loadClip(t, "160x90"), loadClip(t, "320x180")
	s := newTestStream(t, small, config.VariantLowLatency)
	feed(s, small, 0, 60, 0)
	s.Stop(io.EOF)
	if err := s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH264, SPS: big.sps, PPS: big.pps}}); err != nil {
		t.Fatal(err)
	}
	feed(s, big, 0, 75, 0)
	if got := s.Info().Restarts; got != 1 {
		t.Fatalf("%d restarts, want 1", got)
	}
	if mv := get(t, s, "/cams/test/index.m3u8").Body.String(); !strings.Contains(mv, "RESOLUTION=320x180") {
		t.Fatalf("playlist after the new resolution: %q", mv)
	}
}

// A camera that stops sending IDRs would grow one segment without end:
// after maxGOP the muxer is dropped, and the next IDR starts a new one.
func TestNoIDRFor30sBoundsTheSegment(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	pts := feed(s, c, 0, 25, 0)
	p := c.aus[1] // a P-frame, repeated: 30 s without an IDR
	for range 30 * 25 {
		s.WriteVideo(pts, time.Now(), p)
		pts += 3600
	}
	if got := s.Info().Restarts; got != 1 {
		t.Fatalf("%d restarts after 30 s without IDR, want 1", got)
	}
	if s.Info().Live {
		t.Fatal("still muxing without an IDR")
	}
	feed(s, c, 25, 100, pts)
	if !s.Info().Live {
		t.Fatal("not live again after an IDR")
	}
}

// A 4 MB access unit (a huge IDR) goes through as one sample.
func TestHugeAccessUnit(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	filler := make([]byte, 4<<20)
	filler[0] = 12 // filler data NAL unit
	for i := 1; i < len(filler); i++ {
		filler[i] = 0xff
	}
	big := append(append([][]byte{}, c.aus[0]...), filler)
	s.WriteVideo(0, time.Now(), big)
	feed(s, c, 1, 100, 3600)
	if got := s.Info().Restarts; got != 0 {
		t.Fatalf("%d restarts", got)
	}
	pl := get(t, s, "/cams/test/video1_stream.m3u8").Body.String()
	seg := regexp.MustCompile(`[A-Za-z0-9]+_video1_seg\d+\.mp4`).FindString(pl)
	if w := get(t, s, "/cams/test/"+seg); w.Code != 200 || w.Body.Len() < 4<<20 {
		t.Fatalf("first segment %s: %d, %d bytes", seg, w.Code, w.Body.Len())
	}
}
