package segmenter

import (
	"bytes"
	"strconv"
)

// withStart returns an LL-HLS media playlist with an EXT-X-START tag that
// points players at its latest independent part (the camera's latest
// keyframe), or the playlist unchanged when it lists no such part.
//
// Left alone, hls.js starts a live stream PART-HOLD-BACK behind the live
// edge; to show that point it must first load every part from the keyframe
// before it, one request after another (up to a GOP: 10 parts of 100 ms
// with a 1 s GOP), and only then shows a first frame. Started at the
// keyframe itself, it shows the first part as soon as it has it, and the
// player then jumps to its place behind the live edge once the rest is
// buffered (player/assets/app.js, keepLive).
//
// The offset is negative, from the end of the playlist (the end of its
// last part, where hls.js measures it), and 0.5 ms short of the keyframe
// so that rounding cannot land the start in the part before it.
func withStart(body []byte) []byte {
	const part = "#EXT-X-PART:"
	var sinceKey float64
	found := false
	for line := range bytes.Lines(body) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if !bytes.HasPrefix(line, []byte(part)) {
			continue
		}
		d, ok := partDuration(line[len(part):])
		if !ok {
			return body
		}
		if bytes.Contains(line, []byte("INDEPENDENT=YES")) {
			sinceKey, found = d, true
		} else if found {
			sinceKey += d
		}
	}
	if !found || sinceKey <= 0.001 || !bytes.HasPrefix(body, []byte("#EXTM3U\n")) {
		return body
	}
	tag := "#EXT-X-START:TIME-OFFSET=-" + strconv.FormatFloat(sinceKey-0.0005, 'f', 5, 64) + ",PRECISE=YES\n"
	out := make([]byte, 0, len(body)+len(tag))
	out = append(out, "#EXTM3U\n"...)
	out = append(out, tag...)
	return append(out, body[len("#EXTM3U\n"):]...)
}

// partDuration reads the DURATION attribute of an EXT-X-PART tag.
func partDuration(attrs []byte) (float64, bool) {
	const key = "DURATION="
	i := bytes.Index(attrs, []byte(key))
	if i < 0 || (i > 0 && attrs[i-1] != ',') {
		return 0, false
	}
	v := attrs[i+len(key):]
	if j := bytes.IndexByte(v, ','); j >= 0 {
		v = v[:j]
	}
	d, err := strconv.ParseFloat(string(v), 64)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}
