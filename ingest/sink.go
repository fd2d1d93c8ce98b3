// Package ingest gets media out of cameras: one Worker per camera connects
// to its source, hands tracks and access units to a Sink, and reconnects
// with backoff when the source is lost.
package ingest

import (
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// Codec names used in Tracks and in status answers.
const (
	CodecH264 = "H264"
	CodecH265 = "H265"
	CodecAAC  = "AAC"
	CodecOpus = "Opus"
)

// VideoTrack describes the video of a source.
type VideoTrack struct {
	Codec string // CodecH264 or CodecH265
	// Parameter sets as announced out of band (SDP); nil when the camera
	// sends them only in band. VPS is H.265 only.
	VPS []byte
	SPS []byte
	PPS []byte
}

// AudioTrack describes the audio of a source.
type AudioTrack struct {
	Codec        string // CodecAAC or CodecOpus
	ClockRate    int
	AAC          *mpeg4audio.AudioSpecificConfig // CodecAAC only
	ChannelCount int                             // CodecOpus only
}

// Tracks is what a source carries. Video is always set; Audio may be nil.
type Tracks struct {
	Video *VideoTrack
	Audio *AudioTrack
}

// Sink receives the media of one camera. A Worker calls it from one
// goroutine at a time, in this order per connection: Start, then any
// number of WriteVideo/WriteAudio, then Stop.
//
// Timestamps are in the track's clock rate (90 kHz for video) and count
// from the start of the connection; ntp is the wall-clock capture time.
type Sink interface {
	// Start begins a connection. An error (media the sink cannot carry)
	// fails the connection with that error; Stop is not called then.
	Start(t Tracks) error
	// WriteVideo gets one access unit as NAL units without start codes.
	WriteVideo(pts int64, ntp time.Time, au [][]byte)
	// WriteAudio gets one or more audio frames that start at pts.
	WriteAudio(pts int64, ntp time.Time, frames [][]byte)
	// Stop says the connection is gone; err says why.
	Stop(err error)
}
