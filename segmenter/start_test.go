package segmenter

import (
	"strings"
	"testing"
)

func TestWithStart(t *testing.T) {
	const head = "#EXTM3U\n#EXT-X-VERSION:10\n#EXT-X-TARGETDURATION:1\n"
	for _, c := range []struct {
		name, body, want string
	}{
		{
			name: "keyframe in the segment being made",
			body: head + `#EXT-X-PART:DURATION=0.10000,URI="a_part9.mp4"
#EXTINF:1.00000,
a_seg1.mp4
#EXT-X-PART:DURATION=0.10000,URI="a_part10.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.10000,URI="a_part11.mp4"
#EXT-X-PART:DURATION=0.13333,URI="a_part12.mp4"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a_part13.mp4"
`,
			want: "#EXT-X-START:TIME-OFFSET=-0.33283,PRECISE=YES",
		},
		{
			name: "segment just complete: its first part",
			body: head + `#EXT-X-PART:DURATION=0.20000,URI="a_part5.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="a_part6.mp4"
#EXTINF:0.40000,
a_seg1.mp4
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a_part7.mp4"
`,
			want: "#EXT-X-START:TIME-OFFSET=-0.39950,PRECISE=YES",
		},
		{
			name: "keyframe inside a segment (GOP shorter than a segment)",
			body: head + `#EXT-X-PART:DURATION=0.20000,URI="a_part5.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="a_part6.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="a_part7.mp4"
`,
			want: "#EXT-X-START:TIME-OFFSET=-0.39950,PRECISE=YES",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := string(withStart([]byte(c.body)))
			lines := strings.SplitN(got, "\n", 3)
			if lines[0] != "#EXTM3U" || lines[1] != c.want {
				t.Fatalf("got\n%s\nwant line 2 %q", got, c.want)
			}
			if lines[0]+"\n"+lines[2] != c.body {
				t.Errorf("the rest of the playlist changed:\n%s", got)
			}
		})
	}
	for _, body := range []string{
		head + "#EXTINF:1.00000,\na_seg1.mp4\n",                        // not LL-HLS
		head + `#EXT-X-PART:DURATION=0.10000,URI="a_part1.mp4"` + "\n", // no keyframe listed
		head + `#EXT-X-PART:DURATION=x,URI="a_part1.mp4",INDEPENDENT=YES` + "\n",
		"",
	} {
		if got := string(withStart([]byte(body))); got != body {
			t.Errorf("withStart(%q) = %q, want it unchanged", body, got)
		}
	}
}
