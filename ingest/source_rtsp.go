package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/pion/rtp"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// RTSPSource pulls a camera over RTSP or RTSPS. User name and password in
// the URL are used for basic or digest auth, whichever the camera asks for.
type RTSPSource struct {
	URL       string
	Transport config.Transport
	// Fingerprint, if set, is the SHA-256 of the camera's certificate as
	// 64 lowercase hex digits: an rtsps:// camera with a self-signed
	// certificate is trusted if and only if it presents that certificate.
	Fingerprint string
}

// Read implements Source.
func (s *RTSPSource) Read(ctx context.Context, feed *Feed) error {
	u, err := base.ParseURL(s.URL)
	if err != nil {
		return fmt.Errorf("invalid camera URL: %w", err)
	}
	c := &gortsplib.Client{
		Scheme:        u.Scheme,
		Host:          u.Host,
		ReadTimeout:   feed.w.readTimeout(),
		Protocol:      protocolOf(s.Transport),
		TLSConfig:     s.tlsConfig(),
		DialContext:   dialCamera,
		OnPacketsLost: feed.PacketsLost,
		// Decode errors are counted by the frames that do not arrive; a
		// log line per bad packet would flood the log on a lossy link.
		OnDecodeError: func(error) {},
	}
	if err = c.Start(); err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, c.Close)
	defer stop()

	desc, _, err := c.Describe(u)
	if err != nil {
		return err
	}
	tracks, list, err := rtpTracks(desc, feed.w.skip)
	if err != nil {
		return err
	}
	for _, t := range list {
		if _, err = c.Setup(desc.BaseURL, t.Media, 0, 0); err != nil {
			return err
		}
		c.OnPacketRTP(t.Media, t.Format, func(pkt *rtp.Packet) {
			pts, ok := c.PacketPTS(t.Media, pkt)
			t.packet(feed, pkt, pts, ok)
		})
	}
	feed.setTransport(func() string { return transportOf(c.Transport()) })
	if err = feed.Start(tracks); err != nil {
		return err
	}
	if _, err = c.Play(nil); err != nil {
		return err
	}
	err = c.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func protocolOf(t config.Transport) *gortsplib.Protocol {
	var p gortsplib.Protocol
	switch t {
	case config.TransportTCP:
		p = gortsplib.ProtocolTCP
	case config.TransportUDP:
		p = gortsplib.ProtocolUDP
	case config.TransportMulticast:
		p = gortsplib.ProtocolUDPMulticast
	default:
		return nil // gortsplib tries UDP and falls back to TCP
	}
	return &p
}

// transportOf names the transport a client set up, as config.Transport
// does ("" before SETUP). With TransportAuto gortsplib may switch from UDP
// to TCP after PLAY, so this is asked again each time.
func transportOf(t *gortsplib.ClientTransport) string {
	if t == nil || t.Session == nil {
		return ""
	}
	switch t.Session.Protocol {
	case gortsplib.ProtocolTCP:
		return string(config.TransportTCP)
	case gortsplib.ProtocolUDP:
		return string(config.TransportUDP)
	case gortsplib.ProtocolUDPMulticast:
		return string(config.TransportMulticast)
	}
	return ""
}

// tlsConfig pins the camera's certificate when a fingerprint is given;
// otherwise nil means normal verification against the system roots.
func (s *RTSPSource) tlsConfig() *tls.Config {
	if s.Fingerprint == "" {
		return nil
	}
	want := s.Fingerprint
	return &tls.Config{
		// The chain is not verified: the pinned certificate replaces it.
		InsecureSkipVerify: true, //nolint:gosec // verified by fingerprint below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("camera sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if got := hex.EncodeToString(sum[:]); got != want {
				return fmt.Errorf("camera certificate fingerprint is %s, the config expects %s", got, want)
			}
			return nil
		},
	}
}
