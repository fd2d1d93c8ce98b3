package segmenter

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// fuzzAUs decodes the input of FuzzParameterSetInsertion: access units,
// each a pts step (int8, in 20 ms), a unit count and the units as a
// big-endian uint16 length and that many bytes plus one (NAL units are
// never empty: every source drops empty ones).
func fuzzAUs(in []byte) (steps []int64, aus [][][]byte) {
	for len(in) >= 2 {
		step, n := int64(int8(in[0]))*1800, int(in[1])
		in = in[2:]
		var au [][]byte
		for range n {
			if len(in) < 3 {
				break
			}
			l := min(int(binary.BigEndian.Uint16(in))+1, len(in)-2)
			au = append(au, in[2:2+l])
			in = in[2+l:]
		}
		steps, aus = append(steps, step), append(aus, au)
	}
	return steps, aus
}

// Whatever access units come in, in whatever order and with whatever
// timestamps, WriteVideo does not panic, every access unit with an IDR
// reaches the muxer with SPS and PPS in front of the IDR, and the stream
// keeps no more than a bounded amount of state.
//
// Input: a variant byte, then access units (see fuzzAUs). Seeds in
// testdata/fuzz/FuzzParameterSetInsertion are real frames of
// testdata/160x90.h264 and 320x180.h264: parameter sets in band, out of
// band only, after the IDR; timestamps going back; a jump; a new SPS.
func FuzzParameterSetInsertion(f *testing.F) {
	data, err := os.ReadFile("testdata/160x90.h264")
	if err != nil {
		f.Fatal(err)
	}
	var sps, pps []byte
	for _, n := range ingest.SplitAnnexB(data) {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}
	f.Add([]byte{0, 0, 1, 0, 0, 0x65})
	variants := []config.Variant{config.VariantLowLatency, config.VariantFMP4, config.VariantMPEGTS}
	log := slog.New(slog.DiscardHandler)

	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		hls := config.HLS{Variant: variants[int(in[0])%len(variants)], SegmentDuration: time.Second,
			PartDuration: 200 * time.Millisecond, SegmentCount: 3}
		s := NewStream("fuzz", hls, log)
		defer s.Close()
		var problem string
		s.onMux = func(au [][]byte) {
			var haveSPS, havePPS bool
			for _, n := range au {
				switch classify(n, false) {
				case nalSPS:
					haveSPS = true
				case nalPPS:
					havePPS = true
				case nalIDR:
					if (!haveSPS || !havePPS) && problem == "" {
						problem = fmt.Sprintf("IDR without SPS and PPS in front reached the muxer: %x", au)
					}
					return
				}
			}
		}
		if err := s.Start(ingest.Tracks{Video: &ingest.VideoTrack{Codec: ingest.CodecH264, SPS: sps, PPS: pps}}); err != nil {
			t.Fatal(err)
		}
		steps, aus := fuzzAUs(in[1:])
		pts := int64(0)
		for i, au := range aus {
			pts += steps[i]
			s.WriteVideo(pts, time.Unix(1e9, 0).Add(time.Duration(pts)*time.Second/90000), au)
			if problem != "" {
				t.Fatalf("access unit %d: %s", i, problem)
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.info.Frames != uint64(len(aus)) {
			t.Fatalf("%d frames counted, %d written", s.info.Frames, len(aus))
		}
		if len(s.warned) > 4 {
			t.Fatalf("%d distinct warnings remembered: %v", len(s.warned), s.warned)
		}
		for _, p := range [][]byte{s.sps, s.pps, s.vps} {
			if len(p) > len(in) && len(p) > len(sps)+len(pps) {
				t.Fatalf("a %d-byte parameter set kept from a %d-byte input", len(p), len(in))
			}
		}
	})
}
