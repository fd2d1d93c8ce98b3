package loadgen

import "testing"

func TestParsePlaylist(t *testing.T) {
	pl := []byte(`#EXTM3U
#EXT-X-MEDIA-SEQUENCE:5
#EXT-X-PART:DURATION=0.2,URI="a_part1.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.2,URI="a_part2.mp4"
#EXTINF:1.0,
a_seg5.mp4
#EXT-X-PART:DURATION=0.2,URI="a_part3.mp4",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a_part4.mp4"
`)
	msn, part, uris := parsePlaylist(pl, nil)
	if msn != 6 || part != 1 || len(uris) != 3 || string(uris[2]) != "a_part3.mp4" {
		t.Fatalf("msn %d part %d uris %q", msn, part, uris)
	}
	// A delta update counts the skipped segments.
	skip := []byte("#EXT-X-MEDIA-SEQUENCE:5\r\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\r\n#EXTINF:1.0,\r\ns.mp4\r\n#EXT-X-PART:DURATION=0.2,URI=\"p.mp4\"\r\n")
	if msn, part, _ := parsePlaylist(skip, nil); msn != 9 || part != 1 {
		t.Fatalf("delta update: msn %d part %d", msn, part)
	}
}
