package ingest

import (
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
	start := -1
	for i := 0; i+2 < len(b); {
		if b[i+2] > 1 {
			i += 3
			continue
		}
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				out = appendNALU(out, b[start:i])
			}
			start = i + 3
			i += 3
			continue
		}
		i++
	}
	if start >= 0 && start < len(b) {
		out = appendNALU(out, b[start:])
	}
	return out
}

// appendNALU drops the trailing zeros that belong to the next start code
// (00 00 00 01) or are padding.
func appendNALU(out [][]byte, n []byte) [][]byte {
	for len(n) > 0 && n[len(n)-1] == 0 {
		n = n[:len(n)-1]
	}
	if len(n) == 0 {
		return out
	}
	return append(out, n)
}
