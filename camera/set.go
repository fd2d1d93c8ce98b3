package camera

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// Set is the running cameras, in config order.
type Set struct {
	log *slog.Logger

	mu    sync.RWMutex
	cams  map[string]*Camera
	order []string
	demo  *ingest.DemoServer // started with the first demo camera

	rtspListen string                // where the publish server listens
	publish    *ingest.PublishServer // started with the first publish camera
}

// NewSet returns an empty set. rtspListen is the address of the RTSP
// server that publish cameras are pushed to (config rtsp.listen).
func NewSet(rtspListen string, log *slog.Logger) *Set {
	if log == nil {
		log = slog.Default()
	}
	return &Set{log: log, cams: map[string]*Camera{}, rtspListen: rtspListen}
}

// Apply makes the running cameras match cfgs: cameras not in cfgs stop,
// new ones start, changed ones restart, unchanged ones are left alone.
func (s *Set) Apply(cfgs []config.Camera) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	want := make(map[string]config.Camera, len(cfgs))
	for _, c := range cfgs {
		want[c.Name] = c
	}
	for name, cam := range s.cams {
		if c, ok := want[name]; !ok || !sameCamera(c, cam.cfg) {
			cam.stop()
			delete(s.cams, name)
		}
	}
	s.order = s.order[:0]
	for _, c := range cfgs {
		s.order = append(s.order, c.Name)
		if _, running := s.cams[c.Name]; running {
			continue
		}
		src, err := s.source(c)
		if err != nil {
			return err
		}
		var subSrc ingest.Source
		if sub, ok := c.SubstreamCamera(); ok {
			if subSrc, err = s.source(sub); err != nil {
				return err
			}
		}
		s.cams[c.Name] = start(c, src, subSrc, s.log)
	}
	return nil
}

// source makes the ingest source a camera's config asks for (or its
// substream's, as given by SubstreamCamera).
func (s *Set) source(c config.Camera) (ingest.Source, error) {
	switch c.Kind {
	case config.KindDemo:
		if s.demo == nil {
			d, err := ingest.StartDemo(s.log)
			if err != nil {
				return nil, err
			}
			s.demo = d
		}
		// The demo server is on loopback and speaks TCP only.
		return &ingest.RTSPSource{URL: s.demo.URL(), Transport: config.TransportTCP}, nil
	case config.KindPublish:
		if s.publish == nil {
			p, err := ingest.StartPublishServer(s.rtspListen, s.log)
			if err != nil {
				return nil, err
			}
			s.publish = p
		}
		return s.publish.Source(c.Name, c.PublishUser, c.PublishPass), nil
	case config.KindRTP:
		return &ingest.RTPSource{Addr: c.RTPAddr(), SDP: c.SDP}, nil
	case config.KindExec:
		return &ingest.ExecSource{Command: c.Exec}, nil
	default:
		return &ingest.RTSPSource{URL: c.Source, Transport: c.Transport, Fingerprint: c.Fingerprint}, nil
	}
}

// sameCamera reports whether a running camera can be kept for a new config.
func sameCamera(a, b config.Camera) bool {
	a.Line, b.Line = 0, 0
	return a == b
}

// Close stops every camera and the demo server.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range s.cams {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop() }()
	}
	wg.Wait()
	s.cams = map[string]*Camera{}
	s.order = nil
	if s.demo != nil {
		s.demo.Close()
		s.demo = nil
	}
	if s.publish != nil {
		s.publish.Close()
		s.publish = nil
	}
}

// Statuses returns every camera's status in config order.
func (s *Set) Statuses() []Status {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Status, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, s.cams[name].Status())
	}
	return out
}

// Status returns one camera's status.
func (s *Set) Status(name string) (Status, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.cams[name]
	if !ok {
		return Status{}, false
	}
	return c.Status(), true
}

// HLS returns the handler of a camera's HLS files.
func (s *Set) HLS(name string) (http.Handler, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.cams[name]
	if !ok {
		return nil, false
	}
	return c, true
}

// SubstreamHLS returns the handler of the HLS files of a camera's
// substream; false when there is no such camera or it has no substream.
func (s *Set) SubstreamHLS(name string) (http.Handler, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.cams[name]
	if !ok || c.sub == nil {
		return nil, false
	}
	return c.sub.stream, true
}
