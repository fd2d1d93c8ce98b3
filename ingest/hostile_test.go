package ingest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// A camera that stops sending with its TCP connection still open is taken
// for lost after the read timeout, and picked up again when it resumes.
func TestStallWithConnectionOpen(t *testing.T) {
	demo, err := StartDemo(discardLog())
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	w := &Worker{Name: "d", Source: &RTSPSource{URL: demo.URL(), Transport: config.TransportTCP},
		Sink: &recordSink{}, Log: discardLog(), ReadTimeout: time.Second}
	runWorker(t, w)
	waitUntil(t, "live", func() bool { return w.Status().State == StateLive })

	demo.paused.Store(true)
	waitUntil(t, "offline after the stall", func() bool { return w.Status().State == StateOffline })
	// gortsplib's own TCP read timeout or the worker's video watchdog,
	// whichever fires first.
	if st := w.Status(); !strings.Contains(st.LastError, "no video") && !strings.Contains(st.LastError, "timeout") {
		t.Fatalf("last error %q, want it to say the stream timed out", st.LastError)
	}
	demo.paused.Store(false)
	waitUntil(t, "live again", func() bool { return w.Status().State == StateLive })
}

// fakeRTSP answers every request with status 200 and, for DESCRIBE, the
// given body as SDP: a broken camera.
func fakeRTSP(t *testing.T, sdp string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					method := strings.Fields(line)
					cseq := ""
					for {
						h, err := r.ReadString('\n')
						if err != nil || h == "\r\n" {
							break
						}
						if v, ok := strings.CutPrefix(h, "CSeq: "); ok {
							cseq = strings.TrimSpace(v)
						}
					}
					body := ""
					if len(method) > 0 && method[0] == "DESCRIBE" {
						body = sdp
					}
					fmt.Fprintf(c, "RTSP/1.0 200 OK\r\nCSeq: %s\r\nContent-Base: rtsp://%s/\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
						cseq, l.Addr(), len(body), body)
				}
			}()
		}
	}()
	return "rtsp://" + l.Addr().String() + "/cam"
}

// Garbage in the SDP is a failed attempt with a reason, never a crash.
func TestGarbageSDP(t *testing.T) {
	for name, sdp := range map[string]string{
		"binary":   "\x00\x01\x02garbage\xff\xfe",
		"no media": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n",
		"bad m=":   "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=video notaport RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n",
		"no video": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			w := &Worker{Name: "g", Source: &RTSPSource{URL: fakeRTSP(t, sdp), Transport: config.TransportTCP},
				Sink: &recordSink{}, Log: discardLog(), Backoff: Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}}
			runWorker(t, w)
			waitUntil(t, "three failed attempts", func() bool { return w.Status().Reconnects >= 3 })
			st := w.Status()
			if st.State == StateLive || st.LastError == "" {
				t.Fatalf("status %+v", st)
			}
			for _, r := range st.LastError {
				if r < 0x20 || r == 0xfffd {
					t.Fatalf("last error carries the camera's raw bytes: %q", st.LastError)
				}
			}
			t.Logf("%s: %s", name, st.LastError)
		})
	}
}

// A 4 MB access unit crosses RTSP (many FU-A fragments) in one piece.
func TestHugeAccessUnitOverRTSP(t *testing.T) {
	aus, sps, pps, err := demoAccessUnits()
	if err != nil {
		t.Fatal(err)
	}
	filler := make([]byte, 4<<20)
	filler[0] = 12
	for i := 1; i < len(filler); i++ {
		filler[i] = 0xff
	}
	clip := append([][][]byte{append(append([][]byte{}, aus[0]...), filler)}, aus[1:25]...)
	demo, err := startDemo(discardLog(), clip, sps, pps, demoOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	sink := &sizeSink{}
	w := &Worker{Name: "d", Source: &RTSPSource{URL: demo.URL(), Transport: config.TransportTCP}, Sink: sink, Log: discardLog()}
	runWorker(t, w)
	waitUntil(t, "a 4 MB access unit", func() bool { return sink.max.Load() >= 4<<20 })
}

type sizeSink struct {
	recordSink
	max atomicInt
}

func (s *sizeSink) WriteVideo(pts int64, ntp time.Time, au [][]byte) {
	n := 0
	for _, x := range au {
		n += len(x)
	}
	if int64(n) > s.max.Load() {
		s.max.Store(int64(n))
	}
	s.recordSink.WriteVideo(pts, ntp, au)
}
