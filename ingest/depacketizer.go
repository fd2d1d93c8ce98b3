package ingest

import (
	"fmt"

	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// rtpTrack is one media of an SDP that is passed through, with the
// depacketizer that turns its RTP packets into frames.
type rtpTrack struct {
	Media  *description.Media
	Format format.Format
	video  bool
	decode func(*rtp.Packet) ([][]byte, error)
}

// rtpTracks picks from a session description what rtsp2hls carries: the
// first H.264 or H.265 video and the first AAC or Opus audio. Every other
// codec is reported to skip (once per worker, by the caller).
//
// RTSP pull, RTSP publish and raw RTP all go through here, so a camera's
// tracks are chosen the same way however it gets in.
func rtpTracks(desc *description.Session, skip func(codec string)) (Tracks, []*rtpTrack, error) {
	var tracks Tracks
	var list []*rtpTrack
	for _, m := range desc.Medias {
		taken := false
		for _, f := range m.Formats {
			if taken {
				skip(f.Codec())
				continue
			}
			t, err := newRTPTrack(m, f, &tracks)
			if err != nil {
				return Tracks{}, nil, err
			}
			if t == nil {
				skip(f.Codec())
				continue
			}
			list = append(list, t)
			taken = true
		}
	}
	if tracks.Video == nil {
		return Tracks{}, nil, fmt.Errorf("no H.264 or H.265 video track (tracks: %s)", describeCodecs(desc))
	}
	return tracks, list, nil
}

// newRTPTrack returns nil for a format that is not carried or whose kind
// (video, audio) is already taken.
func newRTPTrack(m *description.Media, f format.Format, tracks *Tracks) (*rtpTrack, error) {
	t := &rtpTrack{Media: m, Format: f}
	switch f := f.(type) {
	case *format.H264:
		if tracks.Video != nil {
			return nil, nil
		}
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		sps, pps := f.SafeParams()
		tracks.Video = &VideoTrack{Codec: CodecH264, SPS: sps, PPS: pps}
		t.video, t.decode = true, dec.Decode

	case *format.H265:
		if tracks.Video != nil {
			return nil, nil
		}
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		vps, sps, pps := f.SafeParams()
		tracks.Video = &VideoTrack{Codec: CodecH265, VPS: vps, SPS: sps, PPS: pps}
		t.video, t.decode = true, dec.Decode

	case *format.MPEG4Audio:
		if tracks.Audio != nil || f.Config == nil {
			return nil, nil
		}
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		tracks.Audio = &AudioTrack{Codec: CodecAAC, ClockRate: f.ClockRate(), AAC: f.Config}
		t.decode = dec.Decode

	case *format.Opus:
		if tracks.Audio != nil {
			return nil, nil
		}
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, err
		}
		tracks.Audio = &AudioTrack{Codec: CodecOpus, ClockRate: f.ClockRate(), ChannelCount: f.ChannelCount}
		t.decode = func(p *rtp.Packet) ([][]byte, error) {
			frame, err := dec.Decode(p)
			if err != nil {
				return nil, err
			}
			return [][]byte{frame}, nil
		}

	default:
		return nil, nil
	}
	return t, nil
}

// packet depacketizes one RTP packet with its pts and hands any completed
// frame to the feed. Mid-frame packets, and packets before the first
// complete frame, are normal and produce nothing.
func (t *rtpTrack) packet(feed *Feed, pkt *rtp.Packet, pts int64, ptsOK bool) {
	if t.video {
		feed.Alive()
	}
	frames, err := t.decode(pkt)
	if err != nil || !ptsOK || len(frames) == 0 {
		return
	}
	if t.video {
		feed.Video(pts, frames)
	} else {
		feed.Audio(pts, frames)
	}
}

func describeCodecs(desc *description.Session) string {
	s := ""
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			if s != "" {
				s += ", "
			}
			s += f.Codec()
		}
	}
	if s == "" {
		return "none"
	}
	return s
}
