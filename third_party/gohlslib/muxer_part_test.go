package gohlslib

import (
	"bytes"
	"io"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/stretchr/testify/require"

	"github.com/bluenviron/gohlslib/v2/pkg/storage"
)

func testPartSamples(sizes []int, nonSync bool, ptsOffset int32) []*fmp4.Sample {
	samples := make([]*fmp4.Sample, len(sizes))
	for i, size := range sizes {
		samples[i] = &fmp4.Sample{
			Duration:        3000,
			PTSOffset:       ptsOffset,
			IsNonSyncSample: nonSync && i > 0,
			Payload:         bytes.Repeat([]byte{byte(i)}, size),
		}
	}
	return samples
}

func TestPartMaxSize(t *testing.T) {
	for _, ca := range []struct {
		name   string
		tracks []*fmp4.PartTrack
		slack  int // partMaxSize - marshaled size
	}{
		{
			"empty",
			nil,
			0,
		},
		{
			"all flags",
			[]*fmp4.PartTrack{
				{ID: 1, BaseTime: 90000, Samples: testPartSamples([]int{40000, 30000, 1000}, true, 3000)},
				{ID: 2, BaseTime: 48000, Samples: testPartSamples([]int{300, 310, 320, 330}, true, -10)},
			},
			0,
		},
		{
			"no flags, no offsets",
			[]*fmp4.PartTrack{
				{ID: 1, BaseTime: 90000, Samples: testPartSamples([]int{40000, 30000, 1000}, false, 0)},
				{ID: 2, BaseTime: 48000, Samples: testPartSamples([]int{300, 310, 320, 330}, false, 0)},
			},
			8 * 7,
		},
	} {
		t.Run(ca.name, func(t *testing.T) {
			part := fmp4.Part{SequenceNumber: 5, Tracks: ca.tracks}

			var buf seekablebuffer.Buffer
			err := part.Marshal(&buf)
			require.NoError(t, err)

			require.Equal(t, ca.slack, partMaxSize(&part)-buf.Len())
		})
	}
}

func TestMuxerPartFinalizeBufferSize(t *testing.T) {
	file, err := storage.NewFactoryRAM().NewFile("seg.mp4")
	require.NoError(t, err)

	track := &muxerTrack{
		Track:        &Track{ClockRate: 90000},
		fmp4Samples:  testPartSamples([]int{85000, 1200, 900}, true, 0),
		fmp4StartDTS: 90000,
	}

	p := &muxerPart{
		streamTracks: []*muxerTrack{track},
		storage:      file.NewPart(),
	}
	p.initialize()

	err = p.finalize(0)
	require.NoError(t, err)

	w := p.storage.Writer().(*seekablebuffer.Buffer)
	// one allocation of the final size, rounded up to the allocator's size
	// class (8 KiB pages above 32 KiB); not twice the size.
	require.LessOrEqual(t, w.Cap()-w.Len(), 8192)

	r, err := p.reader()
	require.NoError(t, err)
	defer r.Close()
	byts, err := io.ReadAll(r)
	require.NoError(t, err)

	var parts fmp4.Parts
	err = parts.Unmarshal(byts)
	require.NoError(t, err)
	require.Len(t, parts, 1)
	require.Len(t, parts[0].Tracks[0].Samples, 3)
	require.Len(t, parts[0].Tracks[0].Samples[0].Payload, 85000)
}

// marshalPart is a faster fmp4.Part.Marshal: its output must be the same,
// byte for byte, for every kind of part the muxer makes.
func TestMarshalPartMatchesMediacommon(t *testing.T) {
	for _, ca := range []struct {
		name string
		part fmp4.Part
	}{
		{"video, keyframe first", fmp4.Part{SequenceNumber: 7, Tracks: []*fmp4.PartTrack{
			{ID: 1, BaseTime: 900000, Samples: testPartSamples([]int{40000, 3000, 2500}, true, 0)},
		}}},
		{"video, all sync", fmp4.Part{SequenceNumber: 1, Tracks: []*fmp4.PartTrack{
			{ID: 1, BaseTime: 0, Samples: testPartSamples([]int{100, 200}, false, 0)},
		}}},
		{"video with B-frames (composition offsets)", fmp4.Part{SequenceNumber: 99, Tracks: []*fmp4.PartTrack{
			{ID: 1, BaseTime: 1 << 40, Samples: testPartSamples([]int{5000, 700, 800, 900}, true, 6000)},
		}}},
		{"negative composition offset", fmp4.Part{SequenceNumber: 3, Tracks: []*fmp4.PartTrack{
			{ID: 1, BaseTime: 12345, Samples: testPartSamples([]int{10, 20}, true, -3000)},
		}}},
		{"video and audio", fmp4.Part{SequenceNumber: 1 << 31, Tracks: []*fmp4.PartTrack{
			{ID: 1, BaseTime: 90000, Samples: testPartSamples([]int{60000, 9000, 9000, 9000, 9000}, true, 0)},
			{ID: 2, BaseTime: 48000, Samples: testPartSamples([]int{371, 372, 371, 370, 371, 372, 371, 370, 371}, false, 0)},
		}}},
		{"audio only", fmp4.Part{SequenceNumber: 2, Tracks: []*fmp4.PartTrack{
			{ID: 2, BaseTime: 1024, Samples: testPartSamples([]int{371}, false, 0)},
		}}},
		{"no tracks", fmp4.Part{SequenceNumber: 5}},
	} {
		t.Run(ca.name, func(t *testing.T) {
			var want seekablebuffer.Buffer
			require.NoError(t, ca.part.Marshal(&want))
			var got bytes.Buffer
			require.NoError(t, marshalPart(&got, &ca.part))
			require.Equal(t, want.Bytes(), got.Bytes())
		})
	}
}

func BenchmarkMarshalPart(b *testing.B) {
	part := fmp4.Part{SequenceNumber: 7, Tracks: []*fmp4.PartTrack{
		{ID: 1, BaseTime: 900000, Samples: testPartSamples([]int{20000, 20000, 20000, 20000, 20000}, true, 0)},
		{ID: 2, BaseTime: 48000, Samples: testPartSamples([]int{371, 372, 371, 370, 371, 372, 371, 370, 371}, false, 0)},
	}}
	b.Run("mediacommon", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf seekablebuffer.Buffer
			buf.Grow(partMaxSize(&part))
			part.Marshal(&buf) //nolint:errcheck
		}
	})
	b.Run("marshalPart", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var buf bytes.Buffer
			buf.Grow(partMaxSize(&part))
			marshalPart(&buf, &part) //nolint:errcheck
		}
	})
}
