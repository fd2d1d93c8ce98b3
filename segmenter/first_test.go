package segmenter

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// first.mp4 is the init segment followed by the part that begins with the
// latest keyframe: a clip a MediaSource takes as is, with its codecs in
// the Content-Type.
func TestFirstIsInitAndLatestKeyframePart(t *testing.T) {
	for _, v := range []config.Variant{config.VariantLowLatency, config.VariantFMP4} {
		t.Run(string(v), func(t *testing.T) {
			c := loadClip(t, "160x90")
			s := newTestStream(t, c, v)
			// 3.4 s at 25 fps, an IDR each second: the latest keyframe
			// is the one at 3 s.
			feed(s, c, 0, 85, 0)
			w := get(t, s, "/cams/test/"+FirstFile)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, `video/mp4; codecs="avc1.`) {
				t.Fatalf("Content-Type %q", ct)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			body := w.Body.Bytes()

			pl := get(t, s, "/cams/test/video1_stream.m3u8").Body.Bytes()
			if !bytes.Contains(get(t, s, "/cams/test/index.m3u8").Body.Bytes(), []byte("video1_stream.m3u8")) {
				t.Fatal("multivariant playlist names no video1_stream.m3u8")
			}
			initName, keyName, ok := latestKeyframe(pl)
			if !ok {
				t.Fatalf("no init or keyframe in\n%s", pl)
			}
			initBody := get(t, s, "/cams/test/"+initName).Body.Bytes()
			keyBody := get(t, s, "/cams/test/"+keyName).Body.Bytes()
			if !bytes.Equal(body, append(append([]byte{}, initBody...), keyBody...)) {
				t.Fatalf("body (%d bytes) is not %s (%d) + %s (%d)", len(body), initName, len(initBody), keyName, len(keyBody))
			}

			var init fmp4.Init
			if err := init.Unmarshal(bytes.NewReader(initBody)); err != nil {
				t.Fatal(err)
			}
			var parts fmp4.Parts
			if err := parts.Unmarshal(keyBody); err != nil {
				t.Fatal(err)
			}
			if len(parts) == 0 || len(parts[0].Tracks) == 0 || len(parts[0].Tracks[0].Samples) == 0 {
				t.Fatal("no samples in the keyframe part")
			}
			tr := parts[0].Tracks[0]
			if tr.Samples[0].IsNonSyncSample {
				t.Fatal("the part does not begin with a keyframe")
			}
			// The latest keyframe: at 3 s with LL-HLS parts; without, the
			// latest complete segment's, at 2 s. Times are from the first
			// segment's (gohlslib does not begin at 0).
			want := uint64(3 * 90000)
			if v == config.VariantFMP4 {
				want = 2 * 90000
			}
			if got := tr.BaseTime - baseTime(t, get(t, s, "/cams/test/"+firstMediaSegment(t, string(pl))).Body.Bytes()); got != want {
				t.Errorf("keyframe at %d (90 kHz from the first segment), want the latest, at %d", got, want)
			}
		})
	}
}

// firstMediaSegment is the playlist's first segment that is not a gap
// (gohlslib pads an LL-HLS playlist to seven segments with gaps).
func firstMediaSegment(t *testing.T, pl string) string {
	t.Helper()
	for _, line := range strings.Split(pl, "\n") {
		if strings.HasSuffix(line, ".mp4") && !strings.HasPrefix(line, "#") && line != "gap.mp4" {
			return line
		}
	}
	t.Fatalf("no segment in %q", pl)
	return ""
}

func baseTime(t *testing.T, seg []byte) uint64 {
	t.Helper()
	var parts fmp4.Parts
	if err := parts.Unmarshal(seg); err != nil || len(parts) == 0 || len(parts[0].Tracks) == 0 {
		t.Fatalf("segment: %v", err)
	}
	return parts[0].Tracks[0].BaseTime
}

// While the camera is away its muxer is kept, but its last keyframe is not
// live: 503 until it is back.
func TestFirstWhileCameraAway(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantLowLatency)
	feed(s, c, 0, 85, 0)
	if w := get(t, s, "/cams/test/"+FirstFile); w.Code != http.StatusOK {
		t.Fatalf("live: %d %s", w.Code, w.Body)
	}
	s.Stop(io.EOF)
	if w := get(t, s, "/cams/test/"+FirstFile); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("camera away: %d %s, want 503 with Retry-After", w.Code, w.Body)
	}
}

func TestFirstNotForMPEGTS(t *testing.T) {
	c := loadClip(t, "160x90")
	s := newTestStream(t, c, config.VariantMPEGTS)
	feed(s, c, 0, 85, 0)
	if w := get(t, s, "/cams/test/"+FirstFile); w.Code != http.StatusNotFound {
		t.Fatalf("%d %s, want 404", w.Code, w.Body)
	}
}

func TestLeadingVideo(t *testing.T) {
	for _, c := range []struct {
		name, mv, media, codecs string
		ok                      bool
	}{
		{"video", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.42c01e\",RESOLUTION=640x360\nvideo1_stream.m3u8\n", "video1_stream.m3u8", "avc1.42c01e", true},
		{"audio rendition apart", "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",URI=\"audio2_stream.m3u8\"\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.64001f,mp4a.40.2\",AUDIO=\"audio\"\nvideo1_stream.m3u8?token=x\n", "video1_stream.m3u8", "avc1.64001f", true},
		{"h265", "#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"hvc1.1.6.L93.B0\"\nv.m3u8\n", "v.m3u8", "hvc1.1.6.L93.B0", true},
		{"audio only", "#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"mp4a.40.2\"\na.m3u8\n", "", "", false},
		{"no codecs", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n", "", "", false},
		{"no uri", "#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"avc1.42c01e\"\n", "", "", false},
		{"bad uri", "#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"avc1.42c01e\"\n../x y.m3u8\n", "", "", false},
		{"empty", "", "", "", false},
	} {
		media, codecs, ok := leadingVideo([]byte(c.mv))
		if ok != c.ok || (ok && (media != c.media || codecs != c.codecs)) {
			t.Errorf("%s: %q %q %v, want %q %q %v", c.name, media, codecs, ok, c.media, c.codecs, c.ok)
		}
	}
}

func TestLatestKeyframe(t *testing.T) {
	const head = "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MAP:URI=\"p_init.mp4\"\n"
	for _, c := range []struct {
		name, pl, init, key string
		ok                  bool
	}{
		{"latest independent part", head + "#EXT-X-PART:DURATION=0.2,URI=\"p_part1.mp4\",INDEPENDENT=YES\n#EXTINF:1,\np_seg1.mp4\n#EXT-X-PART:DURATION=0.2,URI=\"p_part5.mp4\",INDEPENDENT=YES\n#EXT-X-PART:DURATION=0.2,URI=\"p_part6.mp4\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"p_part7.mp4\"\n", "p_init.mp4", "p_part5.mp4", true},
		{"no parts: latest segment", head + "#EXTINF:1,\np_seg1.mp4\n#EXTINF:1,\np_seg2.mp4?token=x\n", "p_init.mp4", "p_seg2.mp4", true},
		{"no init", "#EXTM3U\n#EXTINF:1,\np_seg1.ts\n", "", "p_seg1.ts", false},
		{"nothing yet", head, "p_init.mp4", "", false},
	} {
		in, key, ok := latestKeyframe([]byte(c.pl))
		if ok != c.ok || (ok && (in != c.init || key != c.key)) {
			t.Errorf("%s: %q %q %v, want %q %q %v", c.name, in, key, ok, c.init, c.key, c.ok)
		}
	}
}
