// Package config loads and validates rtsp2hls's config.yml.
//
// A Config is always complete once Load returns: defaults are applied and
// every camera carries its effective HLS settings, so the rest of the
// program never looks at YAML or fills in defaults itself.
package config

import "time"

// Variant is the HLS flavour a camera is served in.
type Variant string

// The variants rtsp2hls serves.
//
// MPEG-TS segments can carry only H.264 video and AAC (MPEG-4 Audio). Load
// checks that only for an rtp:// camera, whose SDP names its video codec;
// for the other kinds the codecs are known only once the stream is
// described, so a camera set to mpegts that sends H.265 or Opus fails at
// runtime, when its muxer starts (using CarriesH265 for the same rule).
const (
	VariantLowLatency Variant = "lowLatency" // LL-HLS: fMP4 segments made of parts, blocking reloads
	VariantFMP4       Variant = "fmp4"       // plain HLS with fMP4 segments
	VariantMPEGTS     Variant = "mpegts"     // plain HLS with MPEG-TS segments (H.264 + AAC only)
)

// CarriesH265 reports whether segments of variant v can carry H.265 video:
// fMP4 can, MPEG-TS (as muxed here) cannot. Load and the runtime check of
// a camera's codecs share this rule.
func (v Variant) CarriesH265() bool {
	switch v {
	case VariantLowLatency, VariantFMP4:
		return true
	}
	return false
}

// Transport is how an RTSP camera's RTP packets travel.
type Transport string

// The transports an RTSP pull can use. They apply to rtsp:// and rtsps://
// sources only; Load rejects a transport on any other kind, and leaves
// Camera.Transport at TransportAuto for them.
const (
	TransportAuto      Transport = "auto"      // UDP, then TCP when UDP gets nothing
	TransportTCP       Transport = "tcp"       // RTP interleaved in the RTSP TCP connection
	TransportUDP       Transport = "udp"       // RTP over UDP only
	TransportMulticast Transport = "multicast" // RTP over UDP multicast, group chosen by the camera
)

// SourceKind is how a camera's stream gets into rtsp2hls, decided by the
// form of its source: value.
type SourceKind string

// The kinds of source.
const (
	// KindRTSP pulls from an RTSP server: source rtsp://... or rtsps://...
	KindRTSP SourceKind = "rtsp"
	// KindDemo is the built-in test pattern: source demo (SourceDemo).
	KindDemo SourceKind = "demo"
	// KindPublish waits for a client to push the stream to rtsp2hls's own
	// RTSP server (Config.RTSP) with ANNOUNCE and RECORD, at
	// rtsp://HOST:PORT/NAME: source publish (SourcePublish).
	KindPublish SourceKind = "publish"
	// KindRTP receives raw RTP over UDP, described by Camera.SDP:
	// source rtp://IP:PORT, where IP is an address to listen on (0.0.0.0,
	// ::, or one of this machine's) or a multicast group to join.
	KindRTP SourceKind = "rtp"
	// KindExec runs Camera.Exec with /bin/sh -c and reads H.264 Annex-B
	// from its standard output: source exec:COMMAND.
	KindExec SourceKind = "exec"
)

// Source values that are words rather than URLs.
const (
	// SourceDemo is the source value of the built-in demo camera.
	SourceDemo = "demo"
	// SourcePublish is the source value of a camera that is pushed to
	// rtsp2hls rather than pulled.
	SourcePublish = "publish"
	// SourceExecPrefix starts the source value of an exec camera.
	SourceExecPrefix = "exec:"
)

// Video codecs an SDP can name, as stored in Camera.SDPVideoCodec.
const (
	CodecH264 = "H264"
	CodecH265 = "H265"
)

// HLS holds the muxing settings of a camera.
type HLS struct {
	Variant         Variant
	SegmentDuration time.Duration
	PartDuration    time.Duration
	SegmentCount    int
}

// Camera is one configured camera with its effective settings.
//
// Camera must stay comparable with ==, which is how a reload decides
// whether a running camera changed (camera.Set): its fields are strings,
// numbers and structs of them, never slices, maps or pointers. Settings
// that do not apply to the camera's Kind are zero (Transport is
// TransportAuto).
type Camera struct {
	// Name is used in URLs: /cams/{Name}/, and in the path a publisher
	// pushes to: rtsp://HOST:PORT/{Name}.
	Name string
	// Source is the source: value as written, password included (an exec
	// command may hold URLs with passwords too). Print Redacted(), never
	// Source.
	Source string
	// Kind is the kind of source, decided by the form of Source.
	Kind SourceKind
	// Transport is how RTP travels from an rtsp:// or rtsps:// camera.
	Transport Transport
	// Fingerprint is the SHA-256 fingerprint of an rtsps:// camera's TLS
	// certificate, as 64 lowercase hex digits, when the camera is to be
	// trusted by it (a self-signed certificate) rather than by the
	// system's certificate authorities; "" otherwise.
	Fingerprint string
	// Exec is the command of an exec: source, without the "exec:" prefix,
	// to run with /bin/sh -c. Like Source, it may hold a password.
	Exec string
	// PublishUser and PublishPass are the credentials a publisher must give
	// for a publish camera; both "" when anyone may publish. Never print
	// PublishPass.
	PublishUser string
	PublishPass string
	// SDP describes an rtp:// camera's stream: the text of the sdp: key,
	// or of the file it names, with CRLF line endings, no blank lines and
	// a final CRLF. It has at least one m=video section with RTP/AVP.
	SDP string
	// SDPVideoCodec is the codec of the first usable video in SDP:
	// CodecH264 or CodecH265 ("" for other kinds).
	SDPVideoCodec string
	// HLS is the global hls: block with this camera's overrides applied.
	HLS HLS
	// Line is the line of the camera's key in the config file.
	Line int
}

// Compilation fails here if a field makes Camera incomparable.
var _ = func(a, b Camera) bool { return a == b }

// RTSP holds the settings of rtsp2hls's own RTSP server, which is started
// only for cameras with source publish.
type RTSP struct {
	// Listen is the TCP address the server accepts publishers on.
	Listen string
}

// Config is a loaded, validated config file.
type Config struct {
	// Path is the file the config was loaded from ("" when parsed from bytes).
	Path   string
	Listen string
	// RTSP is the rtsp: block, defaults applied.
	RTSP RTSP
	// HLS is the global default block, defaults applied.
	HLS HLS
	// Cameras in the order they appear in the file.
	Cameras []Camera
}

// Defaults used when a key is absent.
var (
	DefaultListen     = ":8080"
	DefaultRTSPListen = ":8554"
	DefaultHLS        = HLS{
		Variant:         VariantLowLatency,
		SegmentDuration: time.Second,
		PartDuration:    200 * time.Millisecond,
		SegmentCount:    7,
	}
)
