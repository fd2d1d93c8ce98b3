package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// The clip every camera sends: what a 1080p camera's main stream is. Video
// is ffmpeg's testsrc2 with temporal noise (sensor noise, so that x264
// really spends the 4 Mb/s: a clean test pattern would not fill it), H.264
// high profile, 1920x1080 at 25 fps, 4 Mb/s CBR-like (maxrate 4M, bufsize
// 8M), one IDR per second (GOP 25, no scene cuts) and no B-frames, as
// cameras send. Audio is a 440 Hz tone, AAC-LC 128 kb/s, 48 kHz stereo.
const (
	clipSeconds = 10
	clipFPS     = 25
	clipWidth   = 1920
	clipHeight  = 1080
)

var clipArgs = []string{
	"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d:duration=%d,noise=alls=16:allf=t+u", clipWidth, clipHeight, clipFPS, clipSeconds),
	"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%d", clipSeconds),
	"-map", "0:v", "-map", "1:a",
	"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
	"-bf", "0", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
	"-b:v", "4M", "-maxrate", "4M", "-bufsize", "8M",
	"-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
}

// clip is the clip in memory, demuxed: H.264 access units (NAL units
// without start codes; SPS and PPS also apart, for the SDP) and AAC
// frames.
type clip struct {
	sps, pps []byte
	video    [][][]byte // access units in decode (= presentation) order
	audio    [][]byte   // raw AAC frames, 1024 samples each
	aacConf  mpeg4audio.AudioSpecificConfig
	dir      string // where the files are
}

// makeClip makes the clip with ffmpeg into cacheDir (once: it is kept,
// named by a hash of the ffmpeg arguments) and demuxes it with ffmpeg into
// H.264 Annex-B and ADTS AAC.
func makeClip(cacheDir string, logf func(string, ...any)) (string, error) {
	sum := sha256.Sum256([]byte(strings.Join(clipArgs, "\x00")))
	dir := filepath.Join(cacheDir, "clip-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, "clip.aac")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cacheDir, "making-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	logf("making the clip with ffmpeg (once, kept in %s): %d s of %dx%d at %d fps, 4 Mb/s H.264 + AAC", dir, clipSeconds, clipWidth, clipHeight, clipFPS)
	mkv := filepath.Join(tmp, "clip.mkv")
	steps := [][]string{
		append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, clipArgs...), mkv),
		{"-hide_banner", "-loglevel", "error", "-y", "-i", mkv,
			"-map", "0:v", "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", filepath.Join(tmp, "clip.h264"),
			"-map", "0:a", "-c", "copy", "-f", "adts", filepath.Join(tmp, "clip.aac")},
	}
	for _, args := range steps {
		if out, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir, "clip.aac")); err2 == nil {
			return dir, nil // made by another run meanwhile
		}
		return "", err
	}
	return dir, nil
}

// loadClip reads the demuxed clip of dir.
func loadClip(dir string) (*clip, error) {
	c := &clip{dir: dir}
	raw, err := os.ReadFile(filepath.Join(dir, "clip.h264"))
	if err != nil {
		return nil, err
	}
	// An access unit starts at a picture's first slice (first_mb_in_slice
	// 0: the first bit of the slice header is 1) or at the non-VCL units
	// before it (SPS, PPS, SEI, access unit delimiter).
	var au [][]byte
	hasVCL := false
	flush := func() {
		if hasVCL {
			c.video = append(c.video, au)
		}
		au, hasVCL = nil, false
	}
	for _, n := range ingest.SplitAnnexB(raw) {
		if len(n) == 0 {
			continue
		}
		typ := h264.NALUType(n[0] & 0x1F)
		switch typ {
		case h264.NALUTypeSPS:
			c.sps = n
		case h264.NALUTypePPS:
			c.pps = n
		}
		vcl := typ >= 1 && typ <= 5
		if hasVCL && (!vcl || (len(n) > 1 && n[1]&0x80 != 0)) {
			flush()
		}
		if typ == h264.NALUTypeAccessUnitDelimiter {
			continue
		}
		au = append(au, n)
		hasVCL = hasVCL || vcl
	}
	flush()
	if c.sps == nil || c.pps == nil || len(c.video) == 0 {
		return nil, fmt.Errorf("%s: no SPS, PPS or pictures", dir)
	}
	if !h264.IsRandomAccess(c.video[0]) {
		return nil, fmt.Errorf("%s: the clip does not start with an IDR", dir)
	}

	raw, err = os.ReadFile(filepath.Join(dir, "clip.aac"))
	if err != nil {
		return nil, err
	}
	var pkts mpeg4audio.ADTSPackets
	if err := pkts.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if len(pkts) == 0 {
		return nil, fmt.Errorf("%s: no AAC frames", dir)
	}
	c.aacConf = mpeg4audio.AudioSpecificConfig{
		Type:          pkts[0].Type,
		SampleRate:    pkts[0].SampleRate,
		ChannelConfig: pkts[0].ChannelConfig,
	}
	for _, p := range pkts {
		c.audio = append(c.audio, p.AU)
	}
	return c, nil
}

// bytes is the size of the clip's media.
func (c *clip) bytes() (video, audio int) {
	for _, au := range c.video {
		for _, n := range au {
			video += len(n)
		}
	}
	for _, f := range c.audio {
		audio += len(f)
	}
	return video, audio
}
