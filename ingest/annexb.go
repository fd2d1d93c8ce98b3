package ingest

import (
	"bytes"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// auSplitter groups a stream of H.264 NAL units into access units, the way
// a decoder would (ITU-T H.264 7.4.1.2.3): an access unit ends before an
// access unit delimiter, before SPS/PPS/SEI that follow a slice, and before
// a slice whose first_mb_in_slice is 0 when a slice was already seen.
type auSplitter struct {
	cur       [][]byte
	haveSlice bool
}

// push adds a NAL unit and returns the access unit it completed, if any.
func (s *auSplitter) push(nalu []byte) (au [][]byte) {
	if len(nalu) == 0 {
		return nil
	}
	typ := h264.NALUType(nalu[0] & 0x1F)
	startsNew := false
	switch typ {
	case h264.NALUTypeAccessUnitDelimiter:
		startsNew = true
	case h264.NALUTypeSPS, h264.NALUTypePPS, h264.NALUTypeSEI:
		startsNew = s.haveSlice
	case h264.NALUTypeIDR, h264.NALUTypeNonIDR:
		// first_mb_in_slice is the first ue(v) of the slice header;
		// ue(v) == 0 is coded as a single 1 bit.
		startsNew = s.haveSlice && len(nalu) > 1 && nalu[1]&0x80 != 0
	}
	if startsNew && len(s.cur) > 0 {
		au = s.cur
		s.cur = nil
		s.haveSlice = false
	}
	if typ == h264.NALUTypeIDR || typ == h264.NALUTypeNonIDR {
		s.haveSlice = true
	}
	s.cur = append(s.cur, nalu)
	return au
}

// flush returns what is left as a last access unit.
func (s *auSplitter) flush() [][]byte {
	au := s.cur
	s.cur, s.haveSlice = nil, false
	if len(au) == 0 {
		return nil
	}
	return au
}

// SplitAnnexB returns the NAL units of an Annex-B byte stream (start codes
// 00 00 01 or 00 00 00 01), without the start codes. Unlike mediacommon's
// AnnexB.Unmarshal it has no limit on the number of units, so it can read a
// whole file. Bytes before the first start code are dropped.
func SplitAnnexB(b []byte) [][]byte {
	var out [][]byte
	p := nalSplitter{max: len(b) + 1}
	collect := func(n []byte, _ time.Time) { out = append(out, n) }
	p.write(b, time.Time{}, collect)
	p.flush(collect)
	return out
}

// nalSplitter is SplitAnnexB for a stream: it is given the bytes as they
// come, in chunks of any size, and emits the same NAL units SplitAnnexB
// emits for the whole, each as soon as the start code after it arrives.
// A unit longer than max bytes (counting the zero padding after it) is
// dropped and counted, so memory stays bounded.
type nalSplitter struct {
	max     int       // 0 means maxNALUSize
	buf     []byte    // the current unit so far; outside a unit, at most 2 bytes of a possible start code
	in      bool      // inside a unit that is kept
	at      time.Time // when the current unit's start code arrived
	dropped int       // units over max
}

var startCode = []byte{0, 0, 1}

// write adds the chunk b that arrived at t, and emits the units it
// completes. emit gets its own copy of each unit.
func (p *nalSplitter) write(b []byte, t time.Time, emit func(nalu []byte, at time.Time)) {
	limit := p.max
	if limit <= 0 {
		limit = maxNALUSize
	}
	from := max(len(p.buf)-2, 0) // a start code may straddle the chunks
	p.buf = append(p.buf, b...)
	off := 0 // start of the current unit in buf
	for {
		i := bytes.Index(p.buf[from:], startCode)
		if i < 0 {
			break
		}
		i += from
		if p.in {
			p.emit(p.buf[off:i], limit, emit)
		}
		p.in, p.at = true, t
		off = i + 3
		from = off
	}
	rest := p.buf[off:]
	if p.in && len(rest) > limit {
		p.in = false
		p.dropped++
	}
	if !p.in && len(rest) > 2 {
		rest = rest[len(rest)-2:]
	}
	if len(rest) < len(p.buf) { // move what is left to the front (at most a chunk and 2 bytes)
		p.buf = p.buf[:copy(p.buf, rest)]
	}
	if cap(p.buf) > 2*(limit+execReadSize) { // after a unit over the limit
		p.buf = append([]byte(nil), p.buf...)
	}
}

// flush emits the last unit, at the end of the stream.
func (p *nalSplitter) flush(emit func(nalu []byte, at time.Time)) {
	limit := p.max
	if limit <= 0 {
		limit = maxNALUSize
	}
	if p.in {
		p.emit(p.buf, limit, emit)
	}
	p.buf, p.in = nil, false
}

func (p *nalSplitter) emit(n []byte, limit int, emit func([]byte, time.Time)) {
	if len(n) > limit {
		p.dropped++
		return
	}
	for len(n) > 0 && n[len(n)-1] == 0 {
		n = n[:len(n)-1]
	}
	if len(n) > 0 {
		emit(bytes.Clone(n), p.at)
	}
}
