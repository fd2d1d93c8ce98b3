package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"
)

// PublishServer is rtsp2hls's own RTSP server, where clients (ffmpeg,
// GStreamer's rtspclientsink, OBS, an OpenCV program through either) push
// streams with ANNOUNCE/RECORD at rtsp://HOST:PORT/{camera}.
//
// One server carries every publish camera, on the TCP port of rtsp.listen
// (RTP interleaved in the RTSP connection) and, for publishers that send
// RTP over UDP (ffmpeg's and GStreamer's default), on the UDP port pair
// around it: the even port at or just below it for RTP, the next for RTCP
// (8554 gives UDP 8554 and 8555). If those UDP ports are taken the server
// runs TCP only and answers UDP SETUPs 461 Unsupported Transport.
//
// A camera takes one publisher at a time. A publisher that arrives while
// the camera's worker is between two reads (a backoff, a reload) is
// accepted and handed to the next read.
type PublishServer struct {
	log    *slog.Logger
	srv    *gortsplib.Server
	host   string // host for the URLs shown to people
	port   int
	closed chan struct{}

	mu   sync.Mutex
	cams map[string]*publishSource
	pubs map[*gortsplib.ServerSession]*publisher
	// quiet marks connections whose end is logged elsewhere (a refusal,
	// a publisher's session), so that their close is not logged again.
	quiet     map[*gortsplib.ServerConn]bool
	closeOnce sync.Once
}

// statusConflict is HTTP's 409, which RTSP borrows like the rest of the
// 4xx: clients treat any 4xx as a failure and print the reason phrase.
const statusConflict base.StatusCode = 409

// publishGrace is how long a camera whose worker is not reading (between
// attempts, or stopped without a word to this server) still takes a
// publisher. Worker backoff is capped at a few seconds, so a camera that has
// not read for this long has been removed.
const publishGrace = 10 * time.Second

// StartPublishServer listens on addr (host:port; port 0 picks one).
func StartPublishServer(addr string, log *slog.Logger) (*PublishServer, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &PublishServer{
		log:    log,
		closed: make(chan struct{}),
		cams:   map[string]*publishSource{},
		pubs:   map[*gortsplib.ServerSession]*publisher{},
		quiet:  map[*gortsplib.ServerConn]bool{},
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("rtsp.listen %q: %w", addr, err)
	}
	network := "tcp"
	if host == "0.0.0.0" {
		network = "tcp4" // as gortsplib does: not IPv6 too
	}
	// The TCP listener is opened here, to know its port (addr may say 0)
	// before the UDP ports are chosen from it.
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, fmt.Errorf("RTSP server for publishers (rtsp.listen %s): %w", addr, err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	rtpPort := s.port &^ 1
	start := func(udp bool) error {
		s.srv = &gortsplib.Server{
			Handler:     (*publishHandler)(s),
			RTSPAddress: addr,
			Listen:      func(string, string) (net.Listener, error) { return ln, nil },
		}
		if udp {
			s.srv.UDPRTPAddress = net.JoinHostPort(host, strconv.Itoa(rtpPort))
			s.srv.UDPRTCPAddress = net.JoinHostPort(host, strconv.Itoa(rtpPort+1))
		}
		return s.srv.Start()
	}
	transport := fmt.Sprintf("tcp, udp %d-%d", rtpPort, rtpPort+1)
	if rtpPort == 0 {
		err = errors.New("no UDP port pair next to port 1")
	} else {
		err = start(true)
	}
	if err != nil {
		// Only the UDP ports can fail: the TCP listener is open already.
		log.Warn("RTSP server for publishers: UDP ports unavailable, publishers must use TCP "+
			"(ffmpeg -rtsp_transport tcp, rtspclientsink protocols=tcp)", "error", err.Error())
		transport = "tcp"
		if err = start(false); err != nil {
			ln.Close()
			return nil, fmt.Errorf("RTSP server for publishers (rtsp.listen %s): %w", addr, err)
		}
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "<this server>"
	}
	s.host = host
	log.Info("RTSP server for publishers listening", "addr", s.addr(), "transport", transport)
	return s, nil
}

// addr is host:port as publishers should dial it.
func (s *PublishServer) addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Source returns the source of one publish camera; user and pass, if not
// empty, are the credentials a publisher must give. A later Source for the
// same name (a reload) replaces it.
func (s *PublishServer) Source(name, user, pass string) Source {
	src := &publishSource{s: s, name: name, user: user, pass: pass, lastRead: time.Now()}
	s.mu.Lock()
	old := s.cams[name]
	s.cams[name] = src
	s.mu.Unlock()
	if old != nil {
		old.dropPending()
	}
	return src
}

// Close stops the server and disconnects every publisher.
func (s *PublishServer) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.srv.Close()
	})
}

// publishSource is one publish camera.
type publishSource struct {
	s                *PublishServer
	name, user, pass string

	// Guarded by s.mu.
	reading  bool          // a Read is running
	lastRead time.Time     // when the last Read ended (or the source was made)
	pub      *publisher    // the camera's publisher, from ANNOUNCE until it leaves
	wake     chan struct{} // closed when pub starts recording
}

func (src *publishSource) url() string { return "rtsp://" + src.s.addr() + "/" + src.name }

// aliveLocked reports whether the camera still takes publishers.
func (src *publishSource) aliveLocked() bool {
	return src.s.cams[src.name] == src && (src.reading || time.Since(src.lastRead) < publishGrace)
}

func (src *publishSource) wakeLocked() {
	if src.wake != nil {
		close(src.wake)
		src.wake = nil
	}
}

// take returns the publisher if it records and no read has it yet;
// otherwise a channel closed when that may have changed.
func (src *publishSource) take() (*publisher, <-chan struct{}) {
	src.s.mu.Lock()
	defer src.s.mu.Unlock()
	if p := src.pub; p != nil && p.recording && !p.taken {
		p.taken = true
		return p, nil
	}
	if src.wake == nil {
		src.wake = make(chan struct{})
	}
	return nil, src.wake
}

// dropPending disconnects a publisher no read has taken (a taken one is
// closed by its read).
func (src *publishSource) dropPending() {
	src.s.mu.Lock()
	p := src.pub
	src.s.mu.Unlock()
	if p != nil {
		p.session.Close()
	}
}

// Read implements Source: it waits for a publisher, delivers its media,
// and returns when the publisher leaves. When ctx ends first (camera
// stopped, or the worker found no video for too long) it disconnects the
// publisher before returning.
func (src *publishSource) Read(ctx context.Context, feed *Feed) error {
	s := src.s
	s.mu.Lock()
	s.cams[src.name] = src // a Read makes its source the camera's
	src.reading = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		src.reading = false
		src.lastRead = time.Now()
		// The worker stopped (not the stall watchdog, whose cause is an
		// error of its own): the camera is removed or restarted with a
		// new source, and takes no more publishers until then.
		stopped := errors.Is(context.Cause(ctx), context.Canceled)
		if stopped && s.cams[src.name] == src {
			delete(s.cams, src.name)
		}
		s.mu.Unlock()
		if stopped {
			src.dropPending()
		}
	}()

	p, wake := src.take()
	if p == nil {
		feed.Waiting("waiting for a publisher at " + src.url())
	}
	for p == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return errors.New("RTSP server for publishers closed")
		case <-wake:
		}
		p, wake = src.take()
	}

	tracks, list, err := rtpTracks(p.desc, feed.w.skip)
	if err != nil {
		p.stop()
		return err
	}
	byFormat := make(map[format.Format]*rtpTrack, len(list))
	for _, t := range list {
		byFormat[t.Format] = t
	}
	if err = feed.Start(tracks); err != nil {
		p.stop()
		return err
	}
	session := p.session
	p.attach(feed, func(medi *description.Media, forma format.Format, pkt *rtp.Packet) {
		t := byFormat[forma]
		if t == nil {
			return // a track that is not carried
		}
		pts, ok := session.PacketPTS(medi, pkt)
		t.packet(feed, pkt, pts, ok)
	})

	select {
	case <-p.done:
		return publisherGone(p.err)
	case <-ctx.Done():
		p.stop()
		return ctx.Err()
	}
}

// publisherGone turns the reason a session ended into the camera's error.
func publisherGone(err error) error {
	var timedOut liberrors.ErrServerSessionTimedOut
	var torn liberrors.ErrServerSessionTornDown
	var notInUse liberrors.ErrServerSessionNotInUse
	var terminated liberrors.ErrServerTerminated
	switch {
	case errors.As(err, &terminated):
		return errors.New("publisher disconnected by rtsp2hls")
	case err == nil, errors.As(err, &torn), errors.As(err, &notInUse):
		return errors.New("publisher disconnected")
	case errors.As(err, &timedOut):
		return errors.New("publisher disconnected: it sent nothing for too long")
	default:
		return fmt.Errorf("publisher disconnected: %w", err)
	}
}

// publisher is one client that ANNOUNCEd a stream to a camera.
type publisher struct {
	src     *publishSource
	session *gortsplib.ServerSession
	desc    *description.Session
	remote  string
	done    chan struct{} // closed when the session has ended
	err     error         // why it ended, set before done is closed

	// Guarded by src.s.mu.
	recording bool // RECORD done: packets flow
	taken     bool // a Read has it

	mu   sync.Mutex
	feed *Feed
	read func(*description.Media, format.Format, *rtp.Packet)
}

// attach starts delivering packets to a read.
func (p *publisher) attach(feed *Feed, read func(*description.Media, format.Format, *rtp.Packet)) {
	p.mu.Lock()
	p.feed, p.read = feed, read
	p.mu.Unlock()
}

// stop detaches the read, disconnects the publisher and waits until it is.
func (p *publisher) stop() {
	p.attach(nil, nil)
	p.session.Close()
	<-p.done
}

func (p *publisher) packet(medi *description.Media, forma format.Format, pkt *rtp.Packet) {
	p.mu.Lock()
	read := p.read
	p.mu.Unlock()
	if read != nil {
		read(medi, forma, pkt)
	}
}

func (p *publisher) packetsLost(n uint64) {
	p.mu.Lock()
	feed := p.feed
	p.mu.Unlock()
	if feed != nil {
		feed.PacketsLost(n)
	}
}

// publishHandler answers the RTSP requests of publishers.
type publishHandler PublishServer

// refuse answers a request with status and a reason phrase that clients
// print ("method ANNOUNCE failed: 409 camera "x" already has a publisher"),
// logs it, and closes the connection after the answer.
func (h *publishHandler) refuse(conn *gortsplib.ServerConn, status base.StatusCode, camera, reason string) (*base.Response, error) {
	h.log.Warn("publisher refused", "camera", camera, "remote", conn.NetConn().RemoteAddr().String(),
		"status", int(status), "reason", reason)
	h.mu.Lock()
	h.quiet[conn] = true
	h.mu.Unlock()
	return &base.Response{StatusCode: status, StatusMessage: reason}, errors.New(reason)
}

// cameraName maps a request path to a camera name: "/lobby" and "/lobby/"
// are camera lobby.
func cameraName(path string) string {
	return strings.Trim(path, "/")
}

// OnAnnounce implements gortsplib.ServerHandlerOnAnnounce.
func (h *publishHandler) OnAnnounce(ctx *gortsplib.ServerHandlerOnAnnounceCtx) (*base.Response, error) {
	s := (*PublishServer)(h)
	name := cameraName(ctx.Path)

	s.mu.Lock()
	src := s.cams[name]
	if src != nil && !src.aliveLocked() {
		if s.cams[name] == src {
			delete(s.cams, name)
		}
		src = nil
	}
	hint := ""
	if src == nil && s.cams[strings.ToLower(name)] != nil {
		hint = fmt.Sprintf(" (did you mean %q? camera names are lowercase)", strings.ToLower(name))
	}
	s.mu.Unlock()
	if src == nil {
		return h.refuse(ctx.Conn, base.StatusNotFound, name,
			fmt.Sprintf("no camera %q with source publish on this server%s", name, hint))
	}

	if src.user != "" || src.pass != "" {
		if !ctx.Conn.VerifyCredentials(ctx.Request, src.user, src.pass) {
			if _, given := ctx.Request.Header["Authorization"]; given {
				// Wrong credentials: gortsplib answers 401 and closes the
				// connection. The password given is not logged.
				h.log.Warn("publisher refused", "camera", name, "remote", ctx.Conn.NetConn().RemoteAddr().String(),
					"status", int(base.StatusUnauthorized), "reason", "wrong user or password")
				h.mu.Lock()
				h.quiet[ctx.Conn] = true
				h.mu.Unlock()
			}
			// Without credentials this is the challenge the client answers.
			return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
		}
	}

	if _, _, err := rtpTracks(ctx.Description, func(string) {}); err != nil {
		return h.refuse(ctx.Conn, base.StatusBadRequest, name, "camera "+strconv.Quote(name)+": "+err.Error())
	}

	s.mu.Lock()
	if src.pub != nil {
		s.mu.Unlock()
		return h.refuse(ctx.Conn, statusConflict, name,
			fmt.Sprintf("camera %q already has a publisher", name))
	}
	p := &publisher{
		src:     src,
		session: ctx.Session,
		desc:    ctx.Description,
		remote:  ctx.Conn.NetConn().RemoteAddr().String(),
		done:    make(chan struct{}),
	}
	src.pub = p
	s.pubs[ctx.Session] = p
	s.quiet[ctx.Conn] = true
	s.mu.Unlock()
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// notAPlayerServer is the answer to players: this server only takes
// streams in.
const notAPlayerServer = "this RTSP server only takes publishers (ANNOUNCE, RECORD); watch the camera over HLS"

// OnDescribe implements gortsplib.ServerHandlerOnDescribe, for players.
func (h *publishHandler) OnDescribe(*gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return &base.Response{StatusCode: base.StatusMethodNotAllowed, StatusMessage: notAPlayerServer}, nil, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h *publishHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if ctx.Session.State() != gortsplib.ServerSessionStatePreRecord {
		return &base.Response{StatusCode: base.StatusMethodNotAllowed, StatusMessage: notAPlayerServer}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, nil, nil
}

// OnRecord implements gortsplib.ServerHandlerOnRecord.
func (h *publishHandler) OnRecord(ctx *gortsplib.ServerHandlerOnRecordCtx) (*base.Response, error) {
	s := (*PublishServer)(h)
	s.mu.Lock()
	p := s.pubs[ctx.Session]
	s.mu.Unlock()
	if p == nil {
		return &base.Response{StatusCode: base.StatusBadRequest}, errors.New("RECORD without ANNOUNCE")
	}
	// Callbacks are set here, before packets flow; the read they go to
	// comes and goes through p.attach.
	ctx.Session.OnPacketRTPAny(p.packet)

	s.mu.Lock()
	p.recording = true
	reading := p.src.reading
	p.src.wakeLocked()
	s.mu.Unlock()
	transport := "?"
	if tr := ctx.Session.Transport(); tr != nil {
		transport = tr.Protocol.String()
	}
	h.log.Info("publisher connected", "camera", p.src.name, "remote", p.remote, "transport", transport,
		"tracks", describeCodecs(p.desc))

	if !reading {
		// Between two reads of the camera: the next one takes the
		// publisher. If none comes, the camera is gone.
		time.AfterFunc(publishGrace, func() {
			s.mu.Lock()
			orphan := !p.taken
			s.mu.Unlock()
			if orphan {
				p.session.Close()
			}
		})
	}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// OnSessionClose implements gortsplib.ServerHandlerOnSessionClose.
func (h *publishHandler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	s := (*PublishServer)(h)
	s.mu.Lock()
	p := s.pubs[ctx.Session]
	delete(s.pubs, ctx.Session)
	if p != nil && p.src.pub == p {
		p.src.pub = nil
	}
	recorded := p != nil && p.recording
	s.mu.Unlock()
	if p == nil {
		return
	}
	p.err = ctx.Error
	close(p.done)
	if recorded {
		h.log.Info("publisher disconnected", "camera", p.src.name, "remote", p.remote, "reason", publisherGone(ctx.Error).Error())
	}
}

// OnConnClose implements gortsplib.ServerHandlerOnConnClose. A connection
// that failed before it published (bad SDP, a protocol error) is logged
// here; refusals were logged when made, publishers' ends by OnSessionClose.
func (h *publishHandler) OnConnClose(ctx *gortsplib.ServerHandlerOnConnCloseCtx) {
	s := (*PublishServer)(h)
	s.mu.Lock()
	quiet := s.quiet[ctx.Conn]
	delete(s.quiet, ctx.Conn)
	s.mu.Unlock()
	var terminated liberrors.ErrServerTerminated
	if quiet || ctx.Error == nil || errors.Is(ctx.Error, io.EOF) || errors.As(ctx.Error, &terminated) {
		return
	}
	h.log.Warn("RTSP connection to the publish server failed", "remote", ctx.Conn.NetConn().RemoteAddr().String(),
		"error", ctx.Error.Error())
}

// OnPacketsLost implements gortsplib.ServerHandlerOnPacketsLost.
func (h *publishHandler) OnPacketsLost(ctx *gortsplib.ServerHandlerOnPacketsLostCtx) {
	s := (*PublishServer)(h)
	s.mu.Lock()
	p := s.pubs[ctx.Session]
	s.mu.Unlock()
	if p != nil {
		p.packetsLost(ctx.Lost)
	}
}

// OnDecodeError implements gortsplib.ServerHandlerOnDecodeError. Bad
// packets show as frames that do not arrive; a log line each would flood.
func (h *publishHandler) OnDecodeError(*gortsplib.ServerHandlerOnDecodeErrorCtx) {}
