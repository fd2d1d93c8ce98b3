package camera

import (
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

func demoCam(name string, v config.Variant) config.Camera {
	h := config.DefaultHLS
	h.Variant = v
	return config.Camera{Name: name, Source: config.SourceDemo, Kind: config.KindDemo, Transport: config.TransportAuto, HLS: h}
}

func TestApplyKeepsUnchangedAndRestartsChanged(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	if err := s.Apply([]config.Camera{demoCam("a", config.VariantLowLatency), demoCam("b", config.VariantLowLatency)}); err != nil {
		t.Fatal(err)
	}
	a, b := s.cams["a"], s.cams["b"]

	// a unchanged (only its line moved), b removed, c added.
	moved := demoCam("a", config.VariantLowLatency)
	moved.Line = 42
	if err := s.Apply([]config.Camera{demoCam("c", config.VariantFMP4), moved}); err != nil {
		t.Fatal(err)
	}
	if s.cams["a"] != a {
		t.Error("unchanged camera a was restarted")
	}
	if _, ok := s.cams["b"]; ok {
		t.Error("removed camera b still runs")
	}
	select {
	case <-b.main.done:
	default:
		t.Error("removed camera b was not stopped")
	}
	if got := names(s.Statuses()); got != "c,a" {
		t.Errorf("order = %s, want c,a (config order)", got)
	}

	if err := s.Apply([]config.Camera{demoCam("a", config.VariantMPEGTS)}); err != nil {
		t.Fatal(err)
	}
	if s.cams["a"] == a {
		t.Error("changed camera a was not restarted")
	}
	if st, _ := s.Status("a"); st.Variant != "mpegts" {
		t.Errorf("variant = %s after change", st.Variant)
	}
}

func TestDemoCameraGoesLive(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	if err := s.Apply([]config.Camera{demoCam("a", config.VariantLowLatency)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := s.Status("a")
		if st.State == ingest.StateLive && st.Width == 640 && st.LastFrame != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo camera not live: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, ok := s.HLS("a"); !ok {
		t.Fatal("no HLS handler for a running camera")
	}
	if h, ok := s.HLS("zz"); ok || h != nil {
		t.Fatal("HLS handler for an unknown camera")
	}
}

func names(sts []Status) string {
	out := ""
	for i, st := range sts {
		if i > 0 {
			out += ","
		}
		out += st.Name
	}
	return out
}

// A camera with a substream runs two streams: the API nests the
// substream's status, and its HLS has a handler of its own.
func TestSubstream(t *testing.T) {
	s := NewSet("127.0.0.1:0", nil)
	defer s.Close()
	cam := demoCam("a", config.VariantLowLatency)
	cam.Substream = config.Substream{Source: config.SourceDemo, Kind: config.KindDemo}
	if err := s.Apply([]config.Camera{cam, demoCam("b", config.VariantLowLatency)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := s.Status("a")
		if sub := st.Substream; sub != nil && sub.State == ingest.StateLive && sub.Width == 640 && st.State == ingest.StateLive {
			if sub.Name != "a/sub" || sub.Source != "demo" || sub.Substream != nil {
				t.Errorf("substream status = %+v", sub)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("substream not live: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	main, _ := s.HLS("a")
	sub, ok := s.SubstreamHLS("a")
	if !ok || sub == nil || sub == main {
		t.Fatalf("SubstreamHLS(a) = %v, %v", sub, ok)
	}
	if _, ok := s.SubstreamHLS("b"); ok {
		t.Error("b has no substream but a handler for one")
	}
	if st, _ := s.Status("b"); st.Substream != nil {
		t.Errorf("b: Substream = %+v", st.Substream)
	}
	if _, ok := s.SubstreamHLS("zz"); ok {
		t.Error("handler for an unknown camera")
	}

	// Dropping the substream is a change: the camera restarts without it.
	before := s.cams["a"]
	if err := s.Apply([]config.Camera{demoCam("a", config.VariantLowLatency)}); err != nil {
		t.Fatal(err)
	}
	if s.cams["a"] == before || s.cams["a"].sub != nil {
		t.Error("camera a kept its substream")
	}
	select {
	case <-before.sub.done:
	default:
		t.Error("the old substream still runs")
	}
}
