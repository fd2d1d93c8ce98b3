package main

import (
	"math/rand/v2"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"
)

// The -server gortsplib variant: gortsplib's Server with one ServerStream
// per path, as ingest/demo.go serves the demo camera.
type gortsplibServer struct {
	server  *gortsplib.Server
	streams []*gortsplibStream
}

type gortsplibStream struct {
	stream       *gortsplib.ServerStream
	video, audio *description.Media
}

func startGortsplib(m *media, addr string, n int, done <-chan struct{}) (*gortsplibServer, error) {
	s := &gortsplibServer{}
	s.server = &gortsplib.Server{
		Handler:     s,
		RTSPAddress: addr,
		// An IDR of a 4 Mb/s stream is a few hundred packets.
		WriteQueueSize: 4096,
	}
	if err := s.server.Start(); err != nil {
		return nil, err
	}
	for range n {
		gs := &gortsplibStream{
			video: &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{m.vf}},
			audio: &description.Media{Type: description.MediaTypeAudio, Formats: []format.Format{m.af}},
		}
		gs.stream = &gortsplib.ServerStream{Server: s.server, Desc: &description.Session{Medias: []*description.Media{gs.video, gs.audio}}}
		if err := gs.stream.Initialize(); err != nil {
			s.close()
			return nil, err
		}
		s.streams = append(s.streams, gs)
	}
	type seqs struct {
		seqV, seqA uint16
		tsV, tsA   uint32
	}
	st := make([]seqs, n)
	for k := range st {
		st[k] = seqs{uint16(rand.Uint32()), uint16(rand.Uint32()), rand.Uint32(), rand.Uint32()}
	}
	var pkt rtp.Packet
	go m.pace(done, n, time.Now(),
		func(k, i int, ts uint32) {
			gs, q := s.streams[k], &st[k]
			for _, p := range m.video[i] {
				pkt = *p
				pkt.SequenceNumber, pkt.Timestamp = q.seqV, q.tsV+ts
				q.seqV++
				gs.stream.WritePacketRTP(gs.video, &pkt) //nolint:errcheck // no reader is fine
			}
		},
		func(k, i int, ts uint32) {
			gs, q := s.streams[k], &st[k]
			pkt = *m.audio[i]
			pkt.SequenceNumber, pkt.Timestamp = q.seqA, q.tsA+ts
			q.seqA++
			gs.stream.WritePacketRTP(gs.audio, &pkt) //nolint:errcheck // no reader is fine
		})
	return s, nil
}

func (s *gortsplibServer) close() {
	for _, gs := range s.streams {
		gs.stream.Close()
	}
	s.server.Close()
}

func (s *gortsplibServer) stream(path string) (*gortsplib.ServerStream, error) {
	k, _, err := pathOf(path, len(s.streams))
	if err != nil {
		return nil, err
	}
	return s.streams[k-1].stream, nil
}

func (s *gortsplibServer) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	st, err := s.stream(ctx.Path)
	if err != nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, err
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

func (s *gortsplibServer) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	st, err := s.stream(ctx.Path)
	if err != nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, err
	}
	return &base.Response{StatusCode: base.StatusOK}, st, nil
}

func (s *gortsplibServer) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}
