package gohlslib

import (
	"fmt"
	"io"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"

	"github.com/bluenviron/gohlslib/v2/pkg/storage"
)

type muxerPart struct {
	segmentMaxSize uint64
	streamID       string
	streamTracks   []*muxerTrack
	segment        *muxerSegmentFMP4
	startDTS       time.Duration
	prefix         string
	id             uint64
	storage        storage.Part

	path          string
	isIndependent bool
	endDTS        time.Duration // available after finalize()
}

func (p *muxerPart) initialize() {
	p.path = partPath(p.prefix, p.streamID, p.id)
}

func (p *muxerPart) reader() (io.ReadCloser, error) {
	return p.storage.Reader()
}

func (p *muxerPart) getDuration() time.Duration {
	return p.endDTS - p.startDTS
}

func (p *muxerPart) finalize(endDTS time.Duration) error {
	part := fmp4.Part{
		SequenceNumber: uint32(p.id),
	}

	for i, track := range p.streamTracks {
		if track.fmp4Samples != nil {
			part.Tracks = append(part.Tracks, &fmp4.PartTrack{
				ID:       1 + i,
				BaseTime: uint64(track.fmp4StartDTS),
				Samples:  track.fmp4Samples,
			})

			track.fmp4Samples = nil
		}
	}

	w := p.storage.Writer()

	// Marshal writes the part in pieces; give the buffer its final size first,
	// otherwise it grows by doubling and keeps up to twice the part's size
	// for as long as the part is kept.
	if g, ok := w.(interface{ Grow(int) }); ok {
		g.Grow(partMaxSize(&part))
	}

	err := marshalPart(w, &part) // fmp4.Part.Marshal, without reflection (patch D)
	if err != nil {
		return err
	}

	p.endDTS = endDTS

	return nil
}

func (p *muxerPart) writeSample(track *muxerTrack, sample *fmp4AugmentedSample) error {
	size := uint64(len(sample.Payload))
	if (p.segment.size + size) > p.segmentMaxSize {
		return fmt.Errorf("reached maximum segment size")
	}
	p.segment.size += size

	if track.fmp4Samples == nil {
		track.fmp4StartDTS = sample.dts
	}

	if (track.isLeading || len(track.stream.tracks) == 1) && !sample.IsNonSyncSample {
		p.isIndependent = true
	}

	track.fmp4Samples = append(track.fmp4Samples, &sample.Sample)

	return nil
}

// partMaxSize returns an upper bound of the size of part once encoded by
// fmp4.Part.Marshal (exact when every sample has flags and a composition
// time offset): moof, mfhd, for each track traf, tfhd, tfdt (v1) and trun
// (v1, with data offset, up to 16 bytes per sample), then mdat.
func partMaxSize(part *fmp4.Part) int {
	n := 8 + 16 + 8 // moof, mfhd, mdat headers
	for _, track := range part.Tracks {
		n += 8 + 16 + 20 + 20 + 16*len(track.Samples)
		for _, sample := range track.Samples {
			n += len(sample.Payload)
		}
	}
	return n
}
