package main

import "testing"

func TestStampRoundTrip(t *testing.T) {
	const w, h = 640, 360
	pix := make([]byte, w*h)
	for i, c := range []struct {
		ms    uint32
		frame uint16
	}{{0, 0}, {0xffffffff, 0xffff}, {1795315052, 1234}, {0x80000001, 1}} {
		drawScene(pix, w, h, i*37)
		drawStamp(pix, w, c.ms, c.frame)
		ms, frame, ok := readStamp(pix, w)
		if !ok || ms != c.ms || frame != c.frame {
			t.Errorf("stamp %d/%d read back as %d/%d ok=%v", c.ms, c.frame, ms, frame, ok)
		}
	}
	// One flipped block fails the check.
	drawStamp(pix, w, 12345, 6)
	b := w / stampCols
	for y := range b {
		for x := range b {
			pix[(b+y)*w+5*b+x] ^= 0xff
		}
	}
	if _, _, ok := readStamp(pix, w); ok {
		t.Error("a stamp with a flipped block passed its check")
	}
}

func TestCRC8(t *testing.T) {
	// CRC-8 (poly 0x07, init 0) of "123456789" is 0xF4.
	if c := crc8([]byte("123456789")); c != 0xf4 {
		t.Fatalf("crc8 = %#x, want 0xf4", c)
	}
}
