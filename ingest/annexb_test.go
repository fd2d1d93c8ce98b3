package ingest

import (
	"bytes"
	"testing"
)

func TestSplitAnnexB(t *testing.T) {
	in := []byte{9, 9, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 4, 0, 5, 0, 0}
	got := SplitAnnexB(in)
	want := [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 4, 0, 5}}
	if len(got) != len(want) {
		t.Fatalf("got %d units %x, want %d", len(got), got, len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("unit %d = %x, want %x", i, got[i], want[i])
		}
	}
	if got := SplitAnnexB([]byte{1, 2, 3}); got != nil {
		t.Errorf("no start code: got %x", got)
	}
}

func TestAUSplitterGroupsFrames(t *testing.T) {
	aud, sps, pps := []byte{0x09, 0xf0}, []byte{0x67, 1}, []byte{0x68, 1}
	idr := []byte{0x65, 0x88}    // first_mb_in_slice = 0
	slice2 := []byte{0x65, 0x40} // first_mb_in_slice != 0: same picture
	p1 := []byte{0x41, 0x9a}
	p2 := []byte{0x41, 0x9b}
	var s auSplitter
	var aus [][][]byte
	for _, n := range [][]byte{sps, pps, idr, slice2, p1, aud, p2, sps, pps, idr} {
		if au := s.push(n); au != nil {
			aus = append(aus, au)
		}
	}
	if last := s.flush(); last != nil {
		aus = append(aus, last)
	}
	wantLens := []int{4, 1, 2, 3}
	if len(aus) != len(wantLens) {
		t.Fatalf("got %d access units, want %d: %x", len(aus), len(wantLens), aus)
	}
	for i, n := range wantLens {
		if len(aus[i]) != n {
			t.Errorf("AU %d has %d NAL units, want %d: %x", i, len(aus[i]), n, aus[i])
		}
	}
}

func TestDemoClipSplitsIntoFrames(t *testing.T) {
	aus, sps, pps, err := demoAccessUnits()
	if err != nil {
		t.Fatal(err)
	}
	if len(aus) != 8*demoFPS {
		t.Fatalf("demo clip has %d access units, want %d", len(aus), 8*demoFPS)
	}
	if sps == nil || pps == nil {
		t.Fatal("no parameter sets")
	}
	for i, au := range aus {
		for _, n := range au {
			if typ := n[0] & 0x1f; typ == 7 || typ == 8 {
				t.Fatalf("AU %d still carries parameter set %d in band", i, typ)
			}
		}
	}
}
