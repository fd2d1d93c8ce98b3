package main

// The stamp: 3 rows of 20 square blocks across the top of the picture,
// each black (0) or white (1), read left to right, top to bottom:
//
//	bits  0–3   1010, a sync pattern (a misread grid fails it)
//	bits  4–35  capture time, Unix milliseconds, low 32 bits
//	bits 36–51  frame number, low 16 bits
//	bits 52–59  CRC-8 (polynomial 0x07, initial 0) of the 6 bytes: time
//	            (big endian) then frame number (big endian)
//
// A block is width/20 pixels square (32 at 640 wide): big enough to come
// through H.264 at any sane quality. A reader samples the middle half of
// each block and thresholds at mid-grey. e2e/browser/latency.mjs reads the
// same layout from the <video>; keep the two in step.

const (
	stampCols = 20
	stampRows = 3
	stampBits = stampCols * stampRows
)

// crc8 is CRC-8 with polynomial 0x07 and initial value 0.
func crc8(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
	}
	return c
}

// stampBitsOf returns the 60 bits of a stamp.
func stampBitsOf(ms uint32, frame uint16) [stampBits]bool {
	var bits [stampBits]bool
	put := func(at int, v uint64, n int) {
		for i := range n {
			bits[at+i] = v>>(n-1-i)&1 == 1
		}
	}
	put(0, 0b1010, 4)
	put(4, uint64(ms), 32)
	put(36, uint64(frame), 16)
	put(52, uint64(crc8([]byte{byte(ms >> 24), byte(ms >> 16), byte(ms >> 8), byte(ms), byte(frame >> 8), byte(frame)})), 8)
	return bits
}

// drawStamp writes the stamp into a grey (one byte per pixel) picture.
func drawStamp(pix []byte, width int, ms uint32, frame uint16) {
	bits := stampBitsOf(ms, frame)
	b := width / stampCols
	for i, on := range bits {
		v := byte(0)
		if on {
			v = 255
		}
		x0, y0 := (i%stampCols)*b, (i/stampCols)*b
		for y := y0; y < y0+b; y++ {
			row := pix[y*width+x0 : y*width+x0+b]
			for x := range row {
				row[x] = v
			}
		}
	}
}

// readStamp decodes the stamp of a grey picture; ok is false when the sync
// pattern or the CRC does not match.
func readStamp(pix []byte, width int) (ms uint32, frame uint16, ok bool) {
	b := width / stampCols
	var bits [stampBits]bool
	for i := range bits {
		x0, y0 := (i%stampCols)*b+b/4, (i/stampCols)*b+b/4
		sum, n := 0, 0
		for y := y0; y < y0+b/2; y++ {
			for x := x0; x < x0+b/2; x++ {
				sum += int(pix[y*width+x])
				n++
			}
		}
		bits[i] = sum > 128*n
	}
	get := func(at, n int) uint64 {
		var v uint64
		for i := range n {
			v <<= 1
			if bits[at+i] {
				v |= 1
			}
		}
		return v
	}
	if get(0, 4) != 0b1010 {
		return 0, 0, false
	}
	ms, frame = uint32(get(4, 32)), uint16(get(36, 16))
	crc := byte(get(52, 8))
	return ms, frame, crc == crc8([]byte{byte(ms >> 24), byte(ms >> 16), byte(ms >> 8), byte(ms), byte(frame >> 8), byte(frame)})
}

// drawScene fills the picture below the stamp with something that moves,
// so that the encoder has real work: a diagonal gradient that scrolls and
// a bright bar that sweeps across.
func drawScene(pix []byte, width, height, frame int) {
	top := width / stampCols * stampRows
	bar := (frame * 8) % width
	for y := top; y < height; y++ {
		row := pix[y*width : (y+1)*width]
		for x := range row {
			row[x] = byte(40 + (x+y+frame*3)%160)
		}
		for x := bar; x < bar+24 && x < width; x++ {
			row[x] = 235
		}
	}
}
