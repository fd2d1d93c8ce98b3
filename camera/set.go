package camera

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

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

	startWait time.Duration // DefaultStartWait; tests shorten it
}

// ErrNoCamera is the error of a request for a camera that is not
// configured.
var ErrNoCamera = errors.New("no such camera")

// NewSet returns an empty set. rtspListen is the address of the RTSP
// server that publish cameras are pushed to (config rtsp.listen).
func NewSet(rtspListen string, log *slog.Logger) *Set {
	if log == nil {
		log = slog.Default()
	}
	return &Set{log: log, cams: map[string]*Camera{}, rtspListen: rtspListen, startWait: DefaultStartWait}
}

// Apply makes the running cameras match cfgs: cameras not in cfgs stop,
// new ones start, changed ones restart, unchanged ones are left alone
// (same muxer, same segment names, an on-demand camera in the state it
// was). A new or changed on-demand camera is not started: it is idle
// until requested (see Touch).
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
		s.cams[c.Name] = start(c, src, subSrc, s.log, s.startWait)
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

// HLS returns the handler of a camera's HLS files. Each request it serves
// counts as one for the camera: an on-demand camera is started by the
// first, and kept running by the next ones (see Touch).
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
// Like HLS, its requests start and keep running an on-demand camera's
// substream (the main stream runs only if requested itself).
func (s *Set) SubstreamHLS(name string) (http.Handler, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.cams[name]
	if !ok || c.sub == nil {
		return nil, false
	}
	return c.sub, true
}

// Touch counts a request for a camera's page (/cams/NAME/) as one for the
// camera, and reports whether the camera exists. The HTTP side calls it
// for the page route, so that an on-demand camera starts connecting while
// the page and its player load (its playlist request then waits less);
// for other cameras it only answers whether the camera exists. The
// camera's HLS requests touch it by themselves (HLS).
func (s *Set) Touch(name string) bool {
	s.mu.RLock()
	c, ok := s.cams[name]
	s.mu.RUnlock()
	if ok {
		c.main.touch("page requested")
	}
	return ok
}

// Restart stops and starts a camera's source (and its substream's), as
// if it had lost its connection, and returns once they are connecting
// again; viewers' players reload. An on-demand camera that is idle stays
// idle: its next request starts it afresh. The error is ErrNoCamera
// (wrapped) for a name that is not configured.
func (s *Set) Restart(name string) error {
	s.mu.RLock()
	c, ok := s.cams[name]
	s.mu.RUnlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoCamera, name)
	}
	c.restart() // a concurrent Apply that removes c makes this a no-op
	return nil
}
