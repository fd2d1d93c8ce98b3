package ingest

import (
	"bytes"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/sdpunmarshaler"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// Fuzz targets for the code that turns untrusted bytes (a command's
// stdout, a camera's SDP) into media. Seeds are in testdata/fuzz/FuzzXxx
// (real H.264 from demo/clip.h264 and ../segmenter/testdata, real SDPs);
// `make fuzz-short` / `make fuzz-long` run them, `go test` replays them.

// chunks cuts data into pieces whose sizes come from cuts (1..64 bytes
// each, cycling), or returns it whole when cuts is empty.
func chunks(data, cuts []byte) [][]byte {
	if len(cuts) == 0 {
		return [][]byte{data}
	}
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := min(int(cuts[i%len(cuts)]%64)+1, len(data))
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// The streaming splitter gives exactly what SplitAnnexB gives for the
// whole input, however the input is cut into reads; with a size limit, it
// gives a subsequence of that, no unit over the limit, and counts the rest;
// its buffer stays bounded.
func FuzzAnnexBSplit(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0x67, 0, 0, 0, 1, 0x68, 0, 0}, []byte{1})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 1}, []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		want := SplitAnnexB(data)
		pieces := chunks(data, cuts)
		at := time.Unix(0, 0)

		var got [][]byte
		p := nalSplitter{max: len(data) + 1} // no unit can reach it
		for _, c := range pieces {
			p.write(c, at, func(n []byte, _ time.Time) { got = append(got, n) })
		}
		p.flush(func(n []byte, _ time.Time) { got = append(got, n) })
		if p.dropped != 0 || len(got) != len(want) {
			t.Fatalf("streaming split gave %d units (%d dropped), SplitAnnexB %d", len(got), p.dropped, len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("unit %d: streaming %x, SplitAnnexB %x", i, got[i], want[i])
			}
		}

		// With a limit from the input.
		limit := 1
		if len(cuts) > 0 {
			limit = int(cuts[0]) + 1
		}
		got = got[:0]
		p = nalSplitter{max: limit}
		for _, c := range pieces {
			p.write(c, at, func(n []byte, _ time.Time) { got = append(got, n) })
			if len(p.buf) > limit+64+2 {
				t.Fatalf("buffer holds %d bytes with a limit of %d and reads of at most 64", len(p.buf), limit)
			}
		}
		p.flush(func(n []byte, _ time.Time) { got = append(got, n) })
		j := 0
		for _, n := range got {
			if len(n) > limit {
				t.Fatalf("a %d-byte unit passed a limit of %d", len(n), limit)
			}
			for j < len(want) && !bytes.Equal(want[j], n) {
				j++
			}
			if j == len(want) {
				t.Fatalf("limited split gave %x, not in SplitAnnexB's units in that order", n)
			}
			j++
		}
		if len(got)+p.dropped < len(want) {
			t.Fatalf("limited split: %d units and %d dropped, SplitAnnexB has %d", len(got), p.dropped, len(want))
		}
	})
}

// units decodes the fuzz input of FuzzAUSplitter: each unit is a length
// byte and that many bytes (empty units included).
func units(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 {
		n := min(int(data[0]), len(data)-1)
		out = append(out, data[1:1+n])
		data = data[1+n:]
	}
	return out
}

// auSplitter loses and duplicates nothing: the access units, in order,
// are the non-empty units given; none is empty; an access unit delimiter
// only ever starts one. auStream with a size limit gives only access
// units within it, made of the units given, in order.
func FuzzAUSplitter(f *testing.F) {
	f.Add([]byte{2, 0x67, 1, 2, 0x68, 1, 2, 0x65, 0x88, 2, 0x41, 0x9a})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := units(data)
		var s auSplitter
		var aus [][][]byte
		for _, n := range in {
			if au := s.push(n); au != nil {
				aus = append(aus, au)
			}
		}
		if au := s.flush(); au != nil {
			aus = append(aus, au)
		}
		var flat [][]byte
		for i, au := range aus {
			if len(au) == 0 {
				t.Fatalf("access unit %d is empty", i)
			}
			for j, n := range au {
				if j > 0 && h264.NALUType(n[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
					t.Fatalf("access unit %d has a delimiter at %d: %x", i, j, au)
				}
			}
			flat = append(flat, au...)
		}
		var want [][]byte
		for _, n := range in {
			if len(n) > 0 {
				want = append(want, n)
			}
		}
		if len(flat) != len(want) {
			t.Fatalf("%d units in, %d out", len(want), len(flat))
		}
		for i := range want {
			if &flat[i][0] != &want[i][0] || len(flat[i]) != len(want[i]) {
				t.Fatalf("unit %d out is not unit %d in", i, i)
			}
		}

		// The capped stream, fed the same units.
		limit := 1 + len(data)%512
		a := auStream{max: limit}
		var got [][]byte
		emit := func(au [][]byte, _ time.Time) {
			size := 0
			for _, n := range au {
				size += len(n) + auUnitOverhead
			}
			if size > limit {
				t.Fatalf("a %d-byte access unit passed a limit of %d", size, limit)
			}
			got = append(got, au...)
		}
		a.emitAU = emit
		for _, n := range in {
			a.push(n, time.Time{})
			if a.size > limit {
				t.Fatalf("pending access unit of %d bytes over the limit of %d", a.size, limit)
			}
		}
		a.flush(emit)
		j := 0
		for _, n := range got {
			for j < len(want) && &want[j][0] != &n[0] {
				j++
			}
			if j == len(want) {
				t.Fatal("capped stream gave a unit out of order or twice")
			}
			j++
		}
	})
}

// Whatever a camera or a publisher sends as SDP, parsing it and picking
// the tracks never panics; when tracks are picked, there is a video one and
// every track has its depacketizer.
func FuzzSDP(f *testing.F) {
	f.Add([]byte("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(desc *description.Session) {
			tracks, list, err := rtpTracks(desc, func(string) {})
			if err != nil {
				return
			}
			if tracks.Video == nil {
				t.Fatal("tracks picked without video")
			}
			for _, tr := range list {
				if tr.decode == nil || tr.Media == nil || tr.Format == nil {
					t.Fatalf("track %+v incomplete", tr)
				}
			}
		}
		// As RTSP DESCRIBE and ANNOUNCE answers are read (gortsplib).
		if sd, err := sdpunmarshaler.Unmarshal(data); err == nil {
			var desc description.Session
			if desc.Unmarshal2(sd) == nil {
				check(&desc)
			}
		}
		// As an rtp:// camera's sdp: is read.
		if desc, _, err := parseRTPSDP(string(data)); err == nil {
			check(desc)
		}
	})
}
