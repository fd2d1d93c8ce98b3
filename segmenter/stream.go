// Package segmenter turns one camera's access units into HLS with a
// gohlslib muxer, and keeps that muxer healthy: it puts parameter sets in
// front of every IDR, and replaces the muxer after a timestamp jump, a new
// SPS or a muxer error instead of failing for good.
package segmenter

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

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
	BytesOut      uint64  // HLS files (bodies) sent to viewers
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
	vps    []byte // newest parameter sets seen, in the SDP or in band
	sps    []byte
	pps    []byte
	info   Info
	warned map[string]bool

	mux        *gohlslib.Muxer // nil while there is none
	muxReady   chan struct{}   // closed when mux becomes non-nil
	videoTrack *gohlslib.Track
	audioTrack *gohlslib.Track
	muxSPS     []byte // the SPS the muxer was made with

	// The muxer outlives a lost connection: when the camera comes back
	// with the same media, its frames continue the same playlist, so a
	// player that is waiting for the next part just gets it. Timestamps of
	// the new connection are shifted to follow on from the old ones.
	offset     int64         // muxer pts = connection pts + offset (90 kHz)
	lastMuxPTS int64         // muxer pts of the last video frame
	frameDur   int64         // last frame interval, to place the first frame after a gap
	resync     bool          // a new connection: wait for an IDR, then set offset
	lastIDR    int64         // muxer pts of the last IDR, to notice a camera that stops sending them
	lost       bool          // the source is gone; the muxer is kept for its return
	lostCh     chan struct{} // closed when the source is lost, releasing waiting requests

	onMux func(au [][]byte) // tests: sees each video access unit given to the muxer

	// Shared answers to HTTP requests (handler.go). ver counts muxer
	// writes: a rendered playlist is good until the next one.
	ver      atomic.Uint64
	cacheMu  sync.Mutex
	cache    map[flightKey]*flight
	onFlight func(*flight) // tests: sees the flight each request is answered from

	bytesOut   atomic.Uint64 // HLS bodies written to clients
	viewers    viewers       // clients of the playlists
	startUntil atomic.Int64  // unix ns: until then a request waits for the first muxer (Starting)
}

// NewStream returns a stream with no media yet.
func NewStream(name string, hls config.HLS, log *slog.Logger) *Stream {
	if log == nil {
		log = slog.Default()
	}
	return &Stream{Name: name, HLS: hls, Log: log, muxReady: make(chan struct{}), lostCh: make(chan struct{}),
		warned: map[string]bool{}}
}

// Starting says the stream's source is being started now: until wait has
// passed, a playlist request waits for the first segment until then
// rather than at most MaxWait, so that a player opening a camera that is
// only now connecting just starts. After that the request is answered
// 503 with Retry-After, saying the camera did not come up.
func (s *Stream) Starting(wait time.Duration) {
	s.startUntil.Store(time.Now().Add(wait).UnixNano())
}

// Viewers returns the number of distinct clients (remote address and
// user agent) that fetched one of the stream's playlists within
// ViewerWindow.
func (s *Stream) Viewers() int { return s.viewers.count() }

// Info returns a snapshot of what the stream knows.
func (s *Stream) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.info
	i.Live = s.mux != nil && !s.lost
	i.BytesOut = s.bytesOut.Load()
	return i
}

// Start implements ingest.Sink. It refuses video the variant cannot carry.
// A connection with the same codecs as the last one continues its muxer.
func (s *Stream) Start(t ingest.Tracks) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Video == nil {
		s.closeMuxer()
		return errors.New("no video track")
	}
	if t.Video.Codec == ingest.CodecH265 && !s.HLS.Variant.CarriesH265() {
		s.closeMuxer()
		return errors.New("H.265 video needs variant fmp4 or lowLatency (mpegts carries only H.264 and AAC)")
	}
	if s.mux != nil && sameMedia(s.tracks, t) {
		s.resync = true
	} else {
		s.closeMuxer()
	}
	if s.lost {
		s.lost = false
		s.lostCh = make(chan struct{})
	}
	s.tracks = t
	s.vps, s.sps, s.pps = t.Video.VPS, t.Video.SPS, t.Video.PPS
	s.info.Codec = t.Video.Codec
	s.parseSPS()
	s.info.Audio = ""
	if t.Audio != nil {
		s.info.Audio = t.Audio.Codec
		if s.HLS.Variant == config.VariantMPEGTS && t.Audio.Codec != ingest.CodecAAC {
			s.warnOnce("mpegts-audio", "the mpegts variant carries only AAC audio: audio dropped, video plays",
				"codec", t.Audio.Codec)
			s.info.Audio = ""
		}
	}
	return nil
}

// sameMedia reports whether a new connection can continue the old one's
// muxer: same video codec, same audio. (A new SPS is caught at the first
// IDR and restarts the muxer there.)
func sameMedia(a, b ingest.Tracks) bool {
	if a.Video == nil || b.Video == nil || a.Video.Codec != b.Video.Codec {
		return false
	}
	if (a.Audio == nil) != (b.Audio == nil) {
		return false
	}
	if a.Audio == nil {
		return true
	}
	if a.Audio.Codec != b.Audio.Codec || a.Audio.ClockRate != b.Audio.ClockRate || a.Audio.ChannelCount != b.Audio.ChannelCount {
		return false
	}
	return (a.Audio.AAC == nil) == (b.Audio.AAC == nil) && (a.Audio.AAC == nil || *a.Audio.AAC == *b.Audio.AAC)
}

// Stop implements ingest.Sink. The muxer stays, so that players keep their
// place until the camera is back; requests waiting for new media are
// released at once.
func (s *Stream) Stop(error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.lost {
		s.lost = true
		close(s.lostCh)
	}
}

// Close ends the stream for good (the camera is removed or the server
// stops): the muxer is closed, which releases every request blocked in it.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeMuxer()
	if !s.lost {
		s.lost = true
		close(s.lostCh)
	}
}

// WriteVideo implements ingest.Sink.
func (s *Stream) WriteVideo(pts int64, ntp time.Time, au [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tracks.Video == nil {
		return
	}
	isH265 := s.tracks.Video.Codec == ingest.CodecH265

	s.info.Frames++
	idr := false
	var has [numParams]bool
	for _, n := range au {
		s.info.BytesIn += uint64(len(n))
		switch k := classify(n, isH265); k {
		case nalIDR:
			idr = true
		case nalVPS, nalSPS, nalPPS:
			has[k] = has[k] || !idr // after the IDR is too late for it
			if p := s.param(k); !bytes.Equal(n, *p) {
				*p = bytes.Clone(n)
				if k == nalSPS {
					s.parseSPS()
				}
			}
		}
	}

	if s.mux != nil && !bytes.Equal(s.sps, s.muxSPS) {
		s.restart("new SPS (resolution or encoder change)")
	}
	if s.mux != nil && s.resync {
		if !idr {
			return // a new connection joins the muxer at its first IDR
		}
		s.offset = s.lastMuxPTS + s.frameDur - pts
		s.resync = false
	}
	if s.mux != nil {
		if d := pts + s.offset - s.lastMuxPTS; s.jumped(d) {
			s.restart(fmt.Sprintf("timestamp jump of %v", time.Duration(d)*time.Second/90000))
		}
	}

	if idr {
		au = s.withParams(au, has, isH265)
	}

	if s.mux == nil {
		if !idr || s.sps == nil || s.pps == nil || (isH265 && s.vps == nil) {
			return // a muxer can only start on an IDR with known parameter sets
		}
		if err := s.openMuxer(pts); err != nil {
			s.warnOnce("open:"+err.Error(), "cannot start HLS muxer", "err", err)
			return
		}
	}

	muxPTS := pts + s.offset
	if idr {
		s.lastIDR = muxPTS
	} else if time.Duration(muxPTS-s.lastIDR)*time.Second/90000 > s.maxGOP() {
		// Without IDRs gohlslib grows one segment without end, and no new
		// viewer can start: drop the muxer and wait for the next IDR.
		s.restart(fmt.Sprintf("no IDR for %v", s.maxGOP()))
		return
	}
	if d := muxPTS - s.lastMuxPTS; d > 0 && d < 90000 {
		s.frameDur = d
	}
	s.lastMuxPTS = muxPTS
	if s.onMux != nil {
		s.onMux(au)
	}
	var err error
	if isH265 {
		err = s.mux.WriteH265(s.videoTrack, ntp, muxPTS, au)
	} else {
		err = s.mux.WriteH264(s.videoTrack, ntp, muxPTS, au)
	}
	s.ver.Add(1) // after the write: a playlist rendered from now on may have a new part
	if err != nil {
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
	if s.mux == nil || s.audioTrack == nil || s.resync {
		return
	}
	rate := int64(s.audioTrack.ClockRate)
	apts := pts + s.offset*rate/90000
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
	s.ver.Add(1)
	if err != nil {
		s.restart("muxer error (audio): " + err.Error())
	}
}

// maxGOP is the longest run without an IDR that the muxer accepts: far
// above any real camera's GOP, low enough to bound a segment's memory.
func (s *Stream) maxGOP() time.Duration {
	return max(10*s.HLS.SegmentDuration, 10*time.Second)
}

// jumped reports whether a step of delta (90 kHz) from the last frame is a
// discontinuity gohlslib cannot ride over: back by more than B-frame
// reordering explains, or forward by more than a couple of segments.
func (s *Stream) jumped(delta int64) bool {
	d := time.Duration(delta) * time.Second / 90000
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
	s.resync = false
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
	video := &gohlslib.Track{ClockRate: 90000}
	if s.tracks.Video.Codec == ingest.CodecH265 {
		video.Codec = &codecs.H265{VPS: bytes.Clone(s.vps), SPS: bytes.Clone(s.sps), PPS: bytes.Clone(s.pps)}
	} else {
		video.Codec = &codecs.H264{SPS: bytes.Clone(s.sps), PPS: bytes.Clone(s.pps)}
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
	s.offset = -pts
	s.lastMuxPTS, s.lastIDR = 0, 0
	s.frameDur = 90000 / 25
	close(s.muxReady)
	return nil
}

func (s *Stream) parseSPS() {
	if s.sps == nil {
		return
	}
	if s.tracks.Video != nil && s.tracks.Video.Codec == ingest.CodecH265 {
		var sps h265.SPS
		if sps.Unmarshal(s.sps) == nil {
			s.info.Width, s.info.Height, s.info.FPS = sps.Width(), sps.Height(), sps.FPS()
		}
		return
	}
	var sps h264.SPS
	if sps.Unmarshal(s.sps) == nil {
		s.info.Width, s.info.Height, s.info.FPS = sps.Width(), sps.Height(), sps.FPS()
	}
}

func (s *Stream) warnOnce(key, msg string, args ...any) {
	if s.warned[key] {
		return
	}
	s.warned[key] = true
	s.Log.Warn(msg, append([]any{"camera", s.Name}, args...)...)
}

// withParams returns the IDR access unit with the parameter sets it lacks
// in front, as gohlslib needs them inside IDR access units and many cameras
// send them only in the SDP.
func (s *Stream) withParams(au [][]byte, has [numParams]bool, isH265 bool) [][]byte {
	var missing [][]byte
	for k := nalVPS; k < numParams; k++ {
		if k == nalVPS && !isH265 {
			continue
		}
		if p := *s.param(k); !has[k] && p != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return au
	}
	return append(missing, au...)
}

// The NAL unit kinds the stream cares about, for H.264 and H.265 alike.
type nalKind int

const (
	nalVPS nalKind = iota // H.265 only
	nalSPS
	nalPPS
	numParams
	nalIDR // a random access picture: H.264 IDR, H.265 IRAP
	nalOther
)

func classify(n []byte, isH265 bool) nalKind {
	if len(n) == 0 {
		return nalOther
	}
	if isH265 {
		switch t := h265.NALUType((n[0] >> 1) & 0x3f); {
		case t == h265.NALUType_VPS_NUT:
			return nalVPS
		case t == h265.NALUType_SPS_NUT:
			return nalSPS
		case t == h265.NALUType_PPS_NUT:
			return nalPPS
		case t >= h265.NALUType_BLA_W_LP && t <= h265.NALUType_CRA_NUT:
			return nalIDR
		}
		return nalOther
	}
	switch h264.NALUType(n[0] & 0x1f) {
	case h264.NALUTypeSPS:
		return nalSPS
	case h264.NALUTypePPS:
		return nalPPS
	case h264.NALUTypeIDR:
		return nalIDR
	}
	return nalOther
}

func (s *Stream) param(k nalKind) *[]byte {
	switch k {
	case nalVPS:
		return &s.vps
	case nalSPS:
		return &s.sps
	default:
		return &s.pps
	}
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
