// Package segmenter turns one camera's access units into HLS with a
// gohlslib muxer, and keeps that muxer healthy: it puts parameter sets in
// front of every IDR, and replaces the muxer after a timestamp jump, a new
// SPS or a muxer error instead of failing for good.
package segmenter

import (
	"bytes"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// Info is what a stream knows about its media.
type Info struct {
	Codec         string  // video codec, "" until the first frame
	Width, Height int     // from the SPS
	FPS           float64 // from the SPS timing info, 0 if absent
	Audio         string  // audio codec passed through, "" if none
	Frames        uint64  // video access units received
	BytesIn       uint64  // video and audio payload received
	Restarts      int     // muxers replaced after a jump, new SPS or error
	Live          bool    // a muxer is running
}

// Stream is one camera's HLS output. It implements ingest.Sink and
// http.Handler (for the camera's HLS files).
type Stream struct {
	Name string
	HLS  config.HLS
	Log  *slog.Logger

	mu     sync.Mutex
	tracks ingest.Tracks
	sps    []byte // newest SPS seen, in the SDP or in band
	pps    []byte
	info   Info
	warned map[string]bool

	mux        *gohlslib.Muxer // nil while there is none
	muxReady   chan struct{}   // closed when mux becomes non-nil
	videoTrack *gohlslib.Track
	audioTrack *gohlslib.Track
	muxSPS     []byte // the SPS the muxer was made with
	basePTS    int64  // video pts that the muxer sees as 0
	lastPTS    int64
}

// NewStream returns a stream with no media yet.
func NewStream(name string, hls config.HLS, log *slog.Logger) *Stream {
	if log == nil {
		log = slog.Default()
	}
	return &Stream{Name: name, HLS: hls, Log: log, muxReady: make(chan struct{}), warned: map[string]bool{}}
}

// Info returns a snapshot of what the stream knows.
func (s *Stream) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.info
	i.Live = s.mux != nil
	return i
}

// Start implements ingest.Sink.
func (s *Stream) Start(t ingest.Tracks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeMuxer()
	s.tracks = t
	s.sps, s.pps = nil, nil
	if t.Video != nil {
		s.sps, s.pps = t.Video.SPS, t.Video.PPS
		s.info.Codec = t.Video.Codec
		s.parseSPS()
	}
	s.info.Audio = ""
	if t.Audio != nil {
		s.info.Audio = t.Audio.Codec
		if s.HLS.Variant == config.VariantMPEGTS && t.Audio.Codec != ingest.CodecAAC {
			s.warnOnce("mpegts-audio", "the mpegts variant carries only AAC audio: audio dropped, video plays",
				"codec", t.Audio.Codec)
			s.info.Audio = ""
		}
	}
}

// Stop implements ingest.Sink: the muxer is closed, which also releases
// every request blocked in it.
func (s *Stream) Stop(error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeMuxer()
}

// Close releases everything; the stream can still be restarted by Start.
func (s *Stream) Close() { s.Stop(nil) }

// WriteVideo implements ingest.Sink.
func (s *Stream) WriteVideo(pts int64, ntp time.Time, au [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.info.Frames++
	idr := false
	hasSPS, hasPPS := false, false
	for _, n := range au {
		s.info.BytesIn += uint64(len(n))
		if len(n) == 0 {
			continue
		}
		switch h264.NALUType(n[0] & 0x1F) {
		case h264.NALUTypeIDR:
			idr = true
		case h264.NALUTypeSPS:
			hasSPS = true
			if !bytes.Equal(n, s.sps) {
				s.sps = bytes.Clone(n)
				s.parseSPS()
			}
		case h264.NALUTypePPS:
			hasPPS = true
			if !bytes.Equal(n, s.pps) {
				s.pps = bytes.Clone(n)
			}
		}
	}

	if s.mux != nil {
		switch {
		case !bytes.Equal(s.sps, s.muxSPS):
			s.restart("new SPS (resolution or encoder change)")
		case s.jumped(pts):
			s.restart(fmt.Sprintf("timestamp jump of %v", time.Duration(pts-s.lastPTS)*time.Second/90000))
		}
	}
	s.lastPTS = pts

	if idr && (!hasSPS || !hasPPS) && s.sps != nil && s.pps != nil {
		au = withParams(au, s.sps, s.pps, hasSPS, hasPPS)
	}

	if s.mux == nil {
		if !idr || s.sps == nil || s.pps == nil {
			return // a muxer can only start on an IDR with known parameter sets
		}
		if err := s.openMuxer(pts); err != nil {
			s.warnOnce("open:"+err.Error(), "cannot start HLS muxer", "err", err)
			return
		}
	}

	if err := s.mux.WriteH264(s.videoTrack, ntp, pts-s.basePTS, au); err != nil {
		s.restart("muxer error: " + err.Error())
	}
}

// WriteAudio implements ingest.Sink.
func (s *Stream) WriteAudio(pts int64, ntp time.Time, frames [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range frames {
		s.info.BytesIn += uint64(len(f))
	}
	if s.mux == nil || s.audioTrack == nil {
		return
	}
	rate := int64(s.audioTrack.ClockRate)
	apts := pts - s.basePTS*rate/90000
	if apts < 0 {
		return // audio from before the muxer's first video frame
	}
	var err error
	switch s.audioTrack.Codec.(type) {
	case *codecs.MPEG4Audio:
		err = s.mux.WriteMPEG4Audio(s.audioTrack, ntp, apts, frames)
	case *codecs.Opus:
		err = s.mux.WriteOpus(s.audioTrack, ntp, apts, frames)
	}
	if err != nil {
		s.restart("muxer error (audio): " + err.Error())
	}
}

// jumped reports a discontinuity that gohlslib cannot ride over: time going
// back by more than B-frame reordering explains, or forward by more than a
// couple of segments.
func (s *Stream) jumped(pts int64) bool {
	d := time.Duration(pts-s.lastPTS) * time.Second / 90000
	fwd := max(2*s.HLS.SegmentDuration, 2*time.Second)
	return d < -500*time.Millisecond || d > fwd
}

// restart drops the muxer; the next IDR starts a fresh one. Viewers are
// released from their waits and their player reloads the playlist.
func (s *Stream) restart(reason string) {
	if s.mux == nil {
		return
	}
	s.info.Restarts++
	s.Log.Warn("restarting HLS muxer", "camera", s.Name, "reason", reason)
	s.closeMuxer()
}

func (s *Stream) closeMuxer() {
	if s.mux == nil {
		return
	}
	s.mux.Close()
	s.mux = nil
	s.muxReady = make(chan struct{})
}

func (s *Stream) openMuxer(pts int64) error {
	m := &gohlslib.Muxer{
		Variant:            muxerVariant(s.HLS.Variant),
		SegmentCount:       s.HLS.SegmentCount,
		SegmentMinDuration: s.HLS.SegmentDuration,
		PartMinDuration:    s.HLS.PartDuration,
		OnEncodeError: func(err error) {
			s.Log.Debug("HLS muxer", "camera", s.Name, "err", err)
		},
	}
	video := &gohlslib.Track{
		Codec:     &codecs.H264{SPS: bytes.Clone(s.sps), PPS: bytes.Clone(s.pps)},
		ClockRate: 90000,
	}
	m.Tracks = []*gohlslib.Track{video}
	var audio *gohlslib.Track
	if a := s.tracks.Audio; a != nil {
		switch {
		case a.Codec == ingest.CodecAAC && a.AAC != nil:
			audio = &gohlslib.Track{Codec: &codecs.MPEG4Audio{Config: *a.AAC}, ClockRate: a.ClockRate}
		case a.Codec == ingest.CodecOpus && s.HLS.Variant != config.VariantMPEGTS:
			audio = &gohlslib.Track{Codec: &codecs.Opus{ChannelCount: a.ChannelCount}, ClockRate: 48000}
		}
		if audio != nil {
			m.Tracks = append(m.Tracks, audio)
		}
	}
	if err := m.Start(); err != nil {
		return err
	}
	s.mux, s.videoTrack, s.audioTrack = m, video, audio
	s.muxSPS = s.sps
	s.basePTS = pts
	close(s.muxReady)
	return nil
}

func (s *Stream) parseSPS() {
	var sps h264.SPS
	if s.sps == nil || sps.Unmarshal(s.sps) != nil {
		return
	}
	s.info.Width, s.info.Height, s.info.FPS = sps.Width(), sps.Height(), sps.FPS()
}

func (s *Stream) warnOnce(key, msg string, args ...any) {
	if s.warned[key] {
		return
	}
	s.warned[key] = true
	s.Log.Warn(msg, append([]any{"camera", s.Name}, args...)...)
}

// withParams returns the access unit with SPS and PPS in front of it, as
// gohlslib needs them inside IDR access units and many cameras send them
// only in the SDP.
func withParams(au [][]byte, sps, pps []byte, hasSPS, hasPPS bool) [][]byte {
	out := make([][]byte, 0, len(au)+2)
	if !hasSPS {
		out = append(out, sps)
	}
	if !hasPPS {
		out = append(out, pps)
	}
	return append(out, au...)
}

func muxerVariant(v config.Variant) gohlslib.MuxerVariant {
	switch v {
	case config.VariantMPEGTS:
		return gohlslib.MuxerVariantMPEGTS
	case config.VariantFMP4:
		return gohlslib.MuxerVariantFMP4
	default:
		return gohlslib.MuxerVariantLowLatency
	}
}
