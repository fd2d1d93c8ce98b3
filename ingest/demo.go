package ingest

import (
	"crypto/tls"
	_ "embed"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/auth"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// demoClip is 8 s of ffmpeg's testsrc (moving pattern and a seconds
// counter), 640x360 at 25 fps, H.264 main profile without B-frames, one IDR
// per second. Made with:
//
//	ffmpeg -f lavfi -i testsrc=size=640x360:rate=25:duration=8 -c:v libx264 \
//	  -profile:v main -pix_fmt yuv420p -bf 0 -g 25 -keyint_min 25 -sc_threshold 0 \
//	  -b:v 600k -maxrate 700k -bufsize 700k -x264-params aud=1:repeat-headers=1 \
//	  -f h264 ingest/demo/clip.h264
//
//go:embed demo/clip.h264
var demoClip []byte

const demoFPS = 25

// DemoServer is the built-in camera: an RTSP server on loopback that plays
// the demo clip in an endless loop, so that `source: demo` cameras go
// through exactly the code a real camera does. Like many real cameras it
// announces SPS and PPS only in the SDP.
type DemoServer struct {
	server *gortsplib.Server
	stream *gortsplib.ServerStream
	url    string
	paused atomic.Bool // tests: a camera that stalls with its connection open
	user   string      // tests: credentials required (demoOptions)
	pass   string
	done   chan struct{}
	wg     sync.WaitGroup
}

// StartDemo starts the demo camera on a free loopback port.
func StartDemo(log *slog.Logger) (*DemoServer, error) {
	aus, sps, pps, err := demoAccessUnits()
	if err != nil {
		return nil, err
	}
	return startDemo(log, aus, sps, pps, demoOptions{})
}

// demoOptions make the demo server act like other cameras, for tests.
type demoOptions struct {
	TLS         *tls.Config // rtsps://
	User, Pass  string      // credentials every request must carry
	AuthMethods []auth.VerifyMethod
}

// startDemo serves aus in a loop.
func startDemo(log *slog.Logger, aus [][][]byte, sps, pps []byte, opts demoOptions) (*DemoServer, error) {
	d := &DemoServer{done: make(chan struct{}), user: opts.User, pass: opts.Pass}
	d.server = &gortsplib.Server{
		Handler:     (*demoHandler)(d),
		RTSPAddress: "127.0.0.1:0",
		TLSConfig:   opts.TLS,
		AuthMethods: opts.AuthMethods,
		// Room for one big frame's packets (a 4 MB IDR is ~3000 packets).
		WriteQueueSize: 4096,
	}
	if err := d.server.Start(); err != nil {
		return nil, fmt.Errorf("demo camera: %w", err)
	}
	forma := &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}
	d.stream = &gortsplib.ServerStream{
		Server: d.server,
		Desc: &description.Session{Medias: []*description.Media{{
			Type:    description.MediaTypeVideo,
			Formats: []format.Format{forma},
		}}},
	}
	if err := d.stream.Initialize(); err != nil {
		d.server.Close()
		return nil, err
	}
	scheme := "rtsp://"
	if opts.TLS != nil {
		scheme = "rtsps://"
	}
	d.url = scheme + d.server.NetListener().Addr().(*net.TCPAddr).String() + "/demo"
	d.wg.Add(1)
	go d.play(forma, aus)
	log.Info("demo camera ready", "url", d.url)
	return d, nil
}

// URL is where the demo camera can be pulled.
func (d *DemoServer) URL() string { return d.url }

// Close stops the demo camera.
func (d *DemoServer) Close() {
	close(d.done)
	d.wg.Wait()
	d.stream.Close()
	d.server.Close()
}

// play paces the clip in real time. Timestamps keep running across loops,
// as they would from a camera that never stops.
func (d *DemoServer) play(forma *format.H264, aus [][][]byte) {
	defer d.wg.Done()
	enc, err := forma.CreateEncoder()
	if err != nil {
		return
	}
	medi := d.stream.Desc.Medias[0]
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := int64(0); ; n++ {
		due := start.Add(time.Duration(n) * time.Second / demoFPS)
		timer.Reset(time.Until(due))
		select {
		case <-d.done:
			return
		case <-timer.C:
		}
		if d.paused.Load() {
			continue
		}
		pkts, err := enc.Encode(aus[n%int64(len(aus))])
		if err != nil {
			continue
		}
		ts := uint32(n * 90000 / demoFPS)
		for _, p := range pkts {
			p.Timestamp = ts
			d.stream.WritePacketRTP(medi, p) //nolint:errcheck // no readers is fine
		}
	}
}

// demoAccessUnits splits the clip into access units and takes SPS and PPS
// out of band.
func demoAccessUnits() (aus [][][]byte, sps, pps []byte, err error) {
	var s auSplitter
	add := func(au [][]byte) {
		var kept [][]byte
		for _, n := range au {
			switch h264.NALUType(n[0] & 0x1F) {
			case h264.NALUTypeSPS:
				sps = n
			case h264.NALUTypePPS:
				pps = n
			case h264.NALUTypeAccessUnitDelimiter:
			default:
				kept = append(kept, n)
			}
		}
		if len(kept) > 0 {
			aus = append(aus, kept)
		}
	}
	for _, n := range SplitAnnexB(demoClip) {
		if au := s.push(n); au != nil {
			add(au)
		}
	}
	add(s.flush())
	if sps == nil || pps == nil || len(aus) == 0 {
		return nil, nil, nil, fmt.Errorf("demo clip: no SPS/PPS or frames")
	}
	return aus, sps, pps, nil
}

// demoHandler answers every path with the one demo stream.
type demoHandler DemoServer

func (h *demoHandler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := h.authorize(ctx.Conn, ctx.Request); err != nil {
		return res, nil, err
	}
	return &base.Response{StatusCode: base.StatusOK}, h.stream, nil
}

func (h *demoHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := h.authorize(ctx.Conn, ctx.Request); err != nil {
		return res, nil, err
	}
	return &base.Response{StatusCode: base.StatusOK}, h.stream, nil
}

func (h *demoHandler) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// authorize answers 401 (with the challenge) unless the request carries
// the configured credentials. The built-in demo camera has none.
func (h *demoHandler) authorize(conn *gortsplib.ServerConn, req *base.Request) (*base.Response, error) {
	if h.user == "" || conn.VerifyCredentials(req, h.user, h.pass) {
		return nil, nil
	}
	return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
}
