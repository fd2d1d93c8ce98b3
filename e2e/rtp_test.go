package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Raw RTP over UDP (source: rtp://) from real senders, all on 127.0.0.1.

// rtpFreePort returns a UDP port of 127.0.0.1 nothing listens on.
func rtpFreePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// rtpStartSender runs a sending process (ffmpeg, gst-launch-1.0) until the
// test ends.
func rtpStartSender(t *testing.T, name string, args ...string) *logBuffer {
	t.Helper()
	logs := &logBuffer{}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("%s log:\n%s", name, logs.String())
		}
	})
	return logs
}

// rtpStartFFmpeg has ffmpeg send a 320x240 test pattern in H.264 (GOP of
// 1 s) as RTP to 127.0.0.1:port, and a tone in Opus to audioPort unless
// it is 0. It returns the SDP file ffmpeg writes.
func rtpStartFFmpeg(t *testing.T, port, audioPort int) (sdpFile string) {
	t.Helper()
	sdpFile = filepath.Join(t.TempDir(), "rtp_ffmpeg.sdp")
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-re", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"}
	if audioPort != 0 {
		args = append(args, "-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	}
	args = append(args, "-map", "0:v",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25", "-keyint_min", "25",
		"-f", "rtp", fmt.Sprintf("rtp://127.0.0.1:%d", port))
	if audioPort != 0 {
		args = append(args, "-map", "1:a", "-c:a", "libopus", "-f", "rtp", fmt.Sprintf("rtp://127.0.0.1:%d", audioPort))
	}
	rtpStartSender(t, "ffmpeg", append(args, "-sdp_file", sdpFile)...)
	waitFor(t, 10*time.Second, "ffmpeg to write its SDP", func() bool {
		b, err := os.ReadFile(sdpFile)
		return err == nil && strings.Contains(string(b), "a=rtpmap:96 H264/90000")
	})
	return sdpFile
}

// rtpStartGst has GStreamer send a 320x240 test pattern in H.264 (GOP of
// 1 s) as RTP to 127.0.0.1:port.
func rtpStartGst(t *testing.T, port int) {
	t.Helper()
	rtpStartSender(t, "gst-launch-1.0", "-q",
		"videotestsrc", "is-live=true", "!", "video/x-raw,width=320,height=240,framerate=25/1",
		"!", "x264enc", "tune=zerolatency", "speed-preset=veryfast", "key-int-max=25",
		"!", "rtph264pay", "config-interval=1", "pt=96",
		"!", "udpsink", "host=127.0.0.1", fmt.Sprintf("port=%d", port))
}

// rtpGstSDP is the SDP of rtpStartGst's stream, as inline YAML under sdp: |.
func rtpGstSDP(port int) string {
	return fmt.Sprintf(`      v=0
      o=- 0 0 IN IP4 127.0.0.1
      s=GStreamer
      c=IN IP4 127.0.0.1
      t=0 0
      m=video %d RTP/AVP 96
      a=rtpmap:96 H264/90000
      a=fmtp:96 packetization-mode=1
`, port)
}

// rtpCheckDecodes has ffprobe decode the camera's HLS and checks the size.
func rtpCheckDecodes(t *testing.T, s *server, name string) int {
	t.Helper()
	size, frames := ffprobeFrames(t, s.URL+"/cams/"+name+"/index.m3u8")
	t.Logf("%s: ffprobe decoded %d frames of %s", name, frames, size)
	if size != "320x240" || frames < 25 {
		t.Fatalf("decoded %d frames of %s, want ≥25 of 320x240", frames, size)
	}
	return frames
}

// ffmpeg -f rtp with the SDP file it writes as the camera's sdp:, with
// Opus audio on a port of its own.
func TestRTPFromFFmpeg(t *testing.T) {
	need(t, "ffmpeg", "ffprobe")
	port, audioPort := rtpFreePort(t), rtpFreePort(t)
	for audioPort == port {
		audioPort = rtpFreePort(t)
	}
	sdpFile := rtpStartFFmpeg(t, port, audioPort)
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
cameras:
  ff: { source: "rtp://127.0.0.1:%d", sdp: %q }
`, port, sdpFile))
	st := s.waitState(t, "ff", "live", 15*time.Second)
	if st.Codec != "H264" || st.Audio != "Opus" {
		t.Fatalf("status %+v", st)
	}
	rtpCheckDecodes(t, s, "ff")
	if st = s.camera(t, "ff"); st.Width != 320 || st.Height != 240 || st.PacketsLost != 0 {
		t.Fatalf("status %dx%d, %d packets lost on loopback", st.Width, st.Height, st.PacketsLost)
	}
}

// GStreamer's udpsink with the SDP written inline in the config, on
// every address (0.0.0.0).
func TestRTPFromGStreamer(t *testing.T) {
	need(t, "gst-launch-1.0", "ffprobe")
	port := rtpFreePort(t)
	rtpStartGst(t, port)
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
cameras:
  gst:
    source: rtp://0.0.0.0:%d
    sdp: |
%s`, port, rtpGstSDP(port)))
	s.waitState(t, "gst", "live", 15*time.Second)
	rtpCheckDecodes(t, s, "gst")
}

// rtpLossyRelay forwards UDP from one loopback port to another, dropping and
// swapping packets at random, like a bad network path.
type rtpLossyRelay struct {
	in       *net.UDPConn
	to       *net.UDPAddr
	loss     float64 // share of packets dropped
	swap     float64 // share of packets sent after the next one
	received atomic.Int64
	dropped  atomic.Int64
	swapped  atomic.Int64
	done     chan struct{}
}

func rtpStartLossyRelay(t *testing.T, toPort int, loss, swap float64) *rtpLossyRelay {
	t.Helper()
	in, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &rtpLossyRelay{in: in, to: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: toPort}, loss: loss, swap: swap, done: make(chan struct{})}
	go r.run()
	t.Cleanup(func() { in.Close(); <-r.done })
	return r
}

func (r *rtpLossyRelay) port() int { return r.in.LocalAddr().(*net.UDPAddr).Port }

func (r *rtpLossyRelay) run() {
	defer close(r.done)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	buf := make([]byte, 65536)
	var held []byte
	for {
		n, _, err := r.in.ReadFromUDP(buf)
		if err != nil {
			return
		}
		r.received.Add(1)
		switch x := rng.Float64(); {
		case x < r.loss:
			r.dropped.Add(1)
			continue
		case x < r.loss+r.swap && held == nil:
			held = append([]byte(nil), buf[:n]...)
			r.swapped.Add(1)
			continue
		}
		// Unconnected: rtsp2hls not listening yet is no error.
		r.in.WriteToUDP(buf[:n], r.to) //nolint:errcheck
		if held != nil {
			r.in.WriteToUDP(held, r.to) //nolint:errcheck
			held = nil
		}
	}
}

// 5 % loss and 5 % reordering on the path: the camera stays live, HLS
// keeps coming, and the API counts the lost packets.
func TestRTPLossyPath(t *testing.T) {
	need(t, "ffmpeg", "ffprobe")
	port := rtpFreePort(t)
	relay := rtpStartLossyRelay(t, port, 0.05, 0.05)
	// ffmpeg sends to the relay, so its SDP names the relay's port: the
	// port in source: is the one rtsp2hls listens on.
	sdpFile := rtpStartFFmpeg(t, relay.port(), 0)
	s := startServer(t, fmt.Sprintf(`
listen: LISTEN
hls: { partDuration: 200ms, segmentDuration: 1s }
cameras:
  lossy: { source: "rtp://127.0.0.1:%d", sdp: %q }
`, port, sdpFile))
	s.waitState(t, "lossy", "live", 15*time.Second)
	waitFor(t, 10*time.Second, "the first IDR to make it through", func() bool {
		resp, err := http.Get(s.URL + "/cams/lossy/index.m3u8")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	received0, dropped0 := relay.received.Load(), relay.dropped.Load()

	// For 10 s: the state, every 100 ms, and the LL-HLS parts.
	var mu sync.Mutex
	var notLive []string
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var st cameraStatus
			if err := rtpGetStatus(s.URL+"/api/v1/cameras/lossy", &st); err != nil {
				mu.Lock()
				notLive = append(notLive, err.Error())
				mu.Unlock()
				continue
			}
			if st.State != "live" {
				mu.Lock()
				notLive = append(notLive, fmt.Sprintf("%s (%s)", st.State, st.LastError))
				mu.Unlock()
			}
		}
	}()
	c := &llhlsClient{t: t, base: s.URL + "/cams/lossy/", parts: map[string]int{}}
	c.follow(10 * time.Second)
	close(stop)
	<-polled
	st := s.camera(t, "lossy")
	sent, dropped, swapped := relay.received.Load()-received0, relay.dropped.Load()-dropped0, relay.swapped.Load()
	t.Logf("10 s through the relay: %d packets sent, %d dropped (%.1f %%), %d swapped; %d LL-HLS parts",
		sent, dropped, 100*float64(dropped)/float64(max(sent, 1)), swapped, len(c.parts))
	t.Logf("since the start: %d packets sent, %d dropped; the API says %d lost, %d frames",
		relay.received.Load(), relay.dropped.Load(), st.PacketsLost, st.Frames)
	if len(notLive) > 0 {
		t.Fatalf("not live %d times in 10 s: %s", len(notLive), strings.Join(notLive, "; "))
	}
	if st.PacketsLost == 0 {
		t.Fatal("the API shows no packets lost")
	}
	// 200 ms parts: 50 in 10 s; a lost IDR costs up to a GOP.
	if len(c.parts) < 30 {
		t.Fatalf("only %d parts in 10 s", len(c.parts))
	}
	size, frames := rtpProbeLossy(t, s.URL+"/cams/lossy/index.m3u8")
	t.Logf("ffprobe decoded %d frames of %s at the end", frames, size)
	if size != "320x240" || frames < 10 {
		t.Fatalf("decoded %d frames of %s, want ≥10 of 320x240", frames, size)
	}
}

// rtpGetStatus is server.getJSON for a goroutine other than the test's.
func rtpGetStatus(url string, st *cameraStatus) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(st)
}

// rtpProbeLossy is ffprobeFrames for a stream with holes: the decoder's
// complaints about them are not wanted in the output.
func rtpProbeLossy(t *testing.T, url string) (size string, frames int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "quiet", "-rw_timeout", "10000000",
		"-select_streams", "v:0", "-read_intervals", "%+3",
		"-count_frames", "-show_entries", "stream=width,height,nb_read_frames", "-of", "csv=p=0", url).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", url, err, out)
	}
	var w, h int
	fields := strings.Split(strings.TrimSpace(lastLine(string(out))), ",")
	if len(fields) < 3 {
		t.Fatalf("ffprobe output %q", out)
	}
	fmt.Sscan(fields[0], &w)
	fmt.Sscan(fields[1], &h)
	fmt.Sscan(fields[2], &frames)
	return fmt.Sprintf("%dx%d", w, h), frames
}
