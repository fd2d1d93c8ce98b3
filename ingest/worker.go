package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// DefaultReadTimeout is how long a camera may send no video before its
// connection is treated as lost. Cameras send 10+ frames a second, so a few
// seconds of silence means the stream is gone even if TCP is still open.
const DefaultReadTimeout = 5 * time.Second

// Worker pulls one camera over RTSP for as long as its context lives:
// connect, read, and on any loss wait a backoff and connect again.
type Worker struct {
	Name      string
	URL       string // rtsp:// or rtsps://, credentials in the userinfo
	Transport config.Transport
	Sink      Sink
	Log       *slog.Logger
	// ReadTimeout: no video for this long means the stream is lost.
	// Zero means DefaultReadTimeout.
	ReadTimeout time.Duration
	// Backoff between attempts. The zero value means DefaultBackoff.
	Backoff Backoff

	status  statusBox
	skipped map[string]bool // codecs already warned about, so reconnects don't repeat it
}

// Status returns a snapshot of the worker's state.
func (w *Worker) Status() Status { return w.status.get() }

// Run connects and reconnects until ctx is done. It returns after the
// last connection is closed and the sink has been told to Stop.
func (w *Worker) Run(ctx context.Context) {
	if w.Backoff == (Backoff{}) {
		w.Backoff = DefaultBackoff()
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
	w.skipped = map[string]bool{}

	for {
		w.setState(StateConnecting, nil)
		wasLive, err := w.session(ctx)
		if ctx.Err() != nil {
			return
		}
		w.status.reconnected()
		w.setState(StateOffline, err)
		if wasLive {
			// The camera worked: the next failure is a new outage, so it
			// starts again from the shortest delay.
			w.Backoff.Reset()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.Backoff.Next()):
		}
	}
}

func (w *Worker) setState(st State, err error) {
	msg := ""
	if err != nil {
		msg = config.Redact(err.Error())
	}
	if w.status.set(st, msg) {
		if err != nil {
			w.Log.Warn("camera state", "camera", w.Name, "state", st, "reason", msg)
		} else {
			w.Log.Info("camera state", "camera", w.Name, "state", st)
		}
	}
}

func (w *Worker) readTimeout() time.Duration {
	if w.ReadTimeout > 0 {
		return w.ReadTimeout
	}
	return DefaultReadTimeout
}

// session runs one RTSP connection to its end. wasLive says whether any
// video arrived, which decides whether the backoff starts over.
func (w *Worker) session(ctx context.Context) (wasLive bool, err error) {
	u, err := base.ParseURL(w.URL)
	if err != nil {
		return false, fmt.Errorf("invalid camera URL: %w", err)
	}

	c := &gortsplib.Client{
		Scheme:      u.Scheme,
		Host:        u.Host,
		ReadTimeout: w.readTimeout(),
		Protocol:    protocolOf(w.Transport),
	}
	if err = c.Start(); err != nil {
		return false, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, c.Close)
	defer stop()

	desc, _, err := c.Describe(u)
	if err != nil {
		return false, err
	}

	r := &reader{worker: w, client: c}
	if err = r.setup(desc); err != nil {
		return false, err
	}
	if _, err = c.Play(nil); err != nil {
		return false, err
	}

	// The sink learns about the connection only once it is playing, so a
	// failed attempt costs the segmenter nothing.
	w.Sink.Start(r.tracks)
	defer func() { w.Sink.Stop(err) }()

	clientDone := make(chan error, 1)
	go func() { clientDone <- c.Wait() }()

	tick := time.NewTicker(w.readTimeout() / 4)
	defer tick.Stop()
	started := time.Now()
	for {
		select {
		case err = <-clientDone:
			return r.live.Load(), err
		case <-tick.C:
			last := r.lastVideo.Load()
			since := time.Since(started)
			if last != 0 {
				since = time.Since(time.Unix(0, last))
			}
			if since > w.readTimeout() {
				return r.live.Load(), fmt.Errorf("no video for %s", since.Round(time.Second))
			}
		}
	}
}

func protocolOf(t config.Transport) *gortsplib.Protocol {
	var p gortsplib.Protocol
	switch t {
	case config.TransportTCP:
		p = gortsplib.ProtocolTCP
	case config.TransportUDP:
		p = gortsplib.ProtocolUDP
	default:
		return nil // gortsplib tries UDP and falls back to TCP
	}
	return &p
}

// reader turns one connection's RTP packets into access units for the sink.
type reader struct {
	worker *Worker
	client *gortsplib.Client
	tracks Tracks

	// gortsplib may call back from one goroutine per media (UDP), while the
	// Sink wants one caller at a time.
	mu        sync.Mutex
	ntpBase   time.Time // wall clock at pts 0, fixed by the first packet
	live      atomic.Bool
	lastVideo atomic.Int64 // unix nanoseconds of the last video RTP packet
}

// setup picks the H.264 video and an AAC or Opus audio track, sets them up
// and installs the packet callbacks. Other tracks are skipped.
func (r *reader) setup(desc *description.Session) error {
	var h264f *format.H264
	videoMedia := desc.FindFormat(&h264f)
	if videoMedia == nil {
		return fmt.Errorf("no H.264 video track (tracks: %s)", describeCodecs(desc))
	}
	sps, pps := h264f.SafeParams()
	r.tracks.Video = &VideoTrack{Codec: CodecH264, SPS: sps, PPS: pps}

	if _, err := r.client.Setup(desc.BaseURL, videoMedia, 0, 0); err != nil {
		return err
	}
	dec, err := h264f.CreateDecoder()
	if err != nil {
		return err
	}
	r.client.OnPacketRTP(videoMedia, h264f, func(pkt *rtp.Packet) {
		// Any video packet proves the stream alive, even before the first
		// decodable frame (cameras with long GOPs).
		r.lastVideo.Store(time.Now().UnixNano())
		pts, ok := r.client.PacketPTS(videoMedia, pkt)
		if !ok {
			return
		}
		au, err := dec.Decode(pkt)
		if err != nil {
			// Mid-frame packets and the start before the first full frame
			// are normal; real decode errors show up as missing frames.
			return
		}
		r.video(pts, au)
	})

	for _, m := range desc.Medias {
		if m == videoMedia {
			continue
		}
		if r.tracks.Audio == nil && r.setupAudio(desc, m) {
			continue
		}
		for _, f := range m.Formats {
			r.worker.skip(f.Codec())
		}
	}
	return nil
}

func (r *reader) setupAudio(desc *description.Session, m *description.Media) bool {
	for _, f := range m.Formats {
		switch f := f.(type) {
		case *format.MPEG4Audio:
			if f.Config == nil {
				continue
			}
			dec, err := f.CreateDecoder()
			if err != nil || !r.setupMedia(desc, m) {
				continue
			}
			r.tracks.Audio = &AudioTrack{Codec: CodecAAC, ClockRate: f.ClockRate(), AAC: f.Config}
			r.client.OnPacketRTP(m, f, func(pkt *rtp.Packet) {
				pts, ok := r.client.PacketPTS(m, pkt)
				if !ok {
					return
				}
				aus, err := dec.Decode(pkt)
				if err != nil {
					return
				}
				r.audio(pts, aus)
			})
			return true

		case *format.Opus:
			dec, err := f.CreateDecoder()
			if err != nil || !r.setupMedia(desc, m) {
				continue
			}
			r.tracks.Audio = &AudioTrack{Codec: CodecOpus, ClockRate: f.ClockRate(), ChannelCount: f.ChannelCount}
			r.client.OnPacketRTP(m, f, func(pkt *rtp.Packet) {
				pts, ok := r.client.PacketPTS(m, pkt)
				if !ok {
					return
				}
				frame, err := dec.Decode(pkt)
				if err != nil {
					return
				}
				r.audio(pts, [][]byte{frame})
			})
			return true
		}
	}
	return false
}

func (r *reader) setupMedia(desc *description.Session, m *description.Media) bool {
	_, err := r.client.Setup(desc.BaseURL, m, 0, 0)
	return err == nil
}

// ntp maps a pts to a capture time. The first packet of the connection
// fixes the mapping; after that capture time runs with the camera's clock,
// so jitter in arrival does not show up as jitter in program date time.
func (r *reader) ntp(pts int64, clockRate int) time.Time {
	d := time.Duration(pts) * time.Second / time.Duration(clockRate)
	if r.ntpBase.IsZero() {
		r.ntpBase = time.Now().Add(-d)
	}
	return r.ntpBase.Add(d)
}

func (r *reader) video(pts int64, au [][]byte) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.live.Swap(true) {
		r.worker.setState(StateLive, nil)
	}
	r.worker.status.frame(now)
	r.worker.Sink.WriteVideo(pts, r.ntp(pts, 90000), au)
}

func (r *reader) audio(pts int64, frames [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.worker.Sink.WriteAudio(pts, r.ntp(pts, r.tracks.Audio.ClockRate), frames)
}

// skip logs, once per worker, that a codec is not passed through.
func (w *Worker) skip(codec string) {
	if w.skipped[codec] {
		return
	}
	w.skipped[codec] = true
	w.Log.Warn("skipping track: codec not supported, only H264 video and AAC/Opus audio pass through",
		"camera", w.Name, "codec", codec)
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
