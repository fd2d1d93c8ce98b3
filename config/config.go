// Package config loads and validates rtsp2hls's config.yml.
//
// A Config is always complete once Load returns: defaults are applied and
// every camera carries its effective HLS settings, so the rest of the
// program never looks at YAML or fills in defaults itself.
package config

import (
	"fmt"
	"strings"
	"time"
)

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
	// Profile is the profile: key as given (ProfileDefault or
	// ProfileLatency), "" when none was; its effect is in PartDuration.
	Profile string
}

// Substream is a camera's second source, typically the camera's own low
// resolution stream: the wall plays it in its tiles, which need no more,
// and switches to the main stream when a tile is enlarged.
//
// It takes every source value Camera.Source does. The camera's other keys
// are shared: transport and fingerprint apply to whichever of the two
// streams is rtsp:// (rtsps://), publishUser and publishPass to a publish
// substream (pushed to rtsp://HOST:PORT/NAME/sub), the sdp to an rtp://
// substream, and hls, onDemand and idleTimeout to both (an on-demand
// camera's substream runs only while watched too). SubstreamCamera gives
// the substream as a Camera of its own.
type Substream struct {
	// Source is the substream: value as written, "" when the camera has
	// no substream. Like Camera.Source it may hold a password: print
	// Redact(Source).
	Source string
	// Kind is the kind of source, decided by the form of Source.
	Kind SourceKind
	// Exec is the command of an exec: substream, without "exec:".
	Exec string
}

// SubstreamSuffix follows a camera's name in the name of its substream:
// "lobby/sub" is the substream's Camera.Name, the path a publish substream
// is pushed to (rtsp://HOST:PORT/lobby/sub), and where its HLS files are
// served (/cams/lobby/sub/).
const SubstreamSuffix = "/sub"

// Camera is one configured camera with its effective settings.
//
// Camera must stay comparable with ==, which is how a reload decides
// whether a running camera changed (camera.Set): its fields are strings,
// numbers and structs of them, never slices, maps or pointers. Settings
// that apply neither to the camera's Kind nor to its substream's are zero
// (Transport is TransportAuto).
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
	// Substream is the camera's second source; its Source is "" when
	// there is none.
	Substream Substream
	// OnDemand: the camera's source runs only while someone watches. It
	// starts at the first request for the camera's page or HLS files and
	// stops after IdleTimeout without one.
	OnDemand bool
	// IdleTimeout is how long an on-demand camera keeps running without
	// requests (DefaultIdleTimeout); zero when OnDemand is false.
	IdleTimeout time.Duration
	// Line is the line of the camera's key in the config file.
	Line int
}

// SubstreamCamera returns the camera's substream as a camera of its own,
// named NAME/sub (SubstreamSuffix), with the settings of c that apply to
// its kind of source; false when c has no substream.
func (c Camera) SubstreamCamera() (Camera, bool) {
	sub := c.Substream
	if sub.Source == "" {
		return Camera{}, false
	}
	s := Camera{
		Name:   c.Name + SubstreamSuffix,
		Source: sub.Source, Kind: sub.Kind, Exec: sub.Exec,
		Transport:   TransportAuto,
		HLS:         c.HLS,
		OnDemand:    c.OnDemand,
		IdleTimeout: c.IdleTimeout,
		Line:        c.Line,
	}
	switch s.Kind {
	case KindRTSP:
		s.Transport = c.Transport
		if s.isRTSPS() {
			s.Fingerprint = c.Fingerprint
		}
	case KindPublish:
		s.PublishUser, s.PublishPass = c.PublishUser, c.PublishPass
	case KindRTP:
		s.SDP, s.SDPVideoCodec = c.SDP, c.SDPVideoCodec
	}
	return s, true
}

// Compilation fails here if a field makes Camera incomparable.
var _ = func(a, b Camera) bool { return a == b }

// RTSP holds the settings of rtsp2hls's own RTSP server, which is started
// only for cameras with source publish.
type RTSP struct {
	// Listen is the TCP address the server accepts publishers on.
	Listen string
}

// TLS says how the HTTP server gets its certificate; the zero value
// serves plain HTTP.
type TLS struct {
	// Auto: rtsp2hls makes its own certificate on first start and keeps it
	// in DataDir (tls: auto).
	Auto bool
	// Cert and Key are the PEM files given by tls: {cert: FILE, key:
	// FILE}, relative paths resolved against the config file's directory.
	// Cert may hold the whole chain, the server's certificate first.
	Cert, Key string
}

// Enabled reports whether the HTTP server serves HTTPS.
func (t TLS) Enabled() bool { return t.Auto || t.Cert != "" }

// Grid is a fixed layout of a wall: Cols tiles across, Rows down. The zero
// Grid means sized to the number of cameras.
type Grid struct {
	Cols, Rows int
}

// String returns the grid as written in the config and in URLs ("3x3"),
// or "" for the zero Grid.
func (g Grid) String() string {
	if g == (Grid{}) {
		return ""
	}
	return fmt.Sprintf("%dx%d", g.Cols, g.Rows)
}

// Wall is a named selection of cameras, shown at /walls/{Name}.
type Wall struct {
	Name string
	// Cameras are names of configured cameras, in the order shown.
	Cameras []string
	// Grid is the wall's fixed grid, zero to size it to the cameras.
	Grid Grid
	// Line is the line of the wall's key in the config file.
	Line int
}

// Config is a loaded, validated config file.
type Config struct {
	// Path is the file the config was loaded from ("" when parsed from bytes).
	Path   string
	Listen string
	// TLS is how listen serves HTTPS; zero for plain HTTP.
	TLS TLS
	// RedirectListen is the address of a plain-HTTP listener that
	// redirects every request to the HTTPS one; "" for none. It is set
	// only with TLS.
	RedirectListen string
	// DataDir is where rtsp2hls keeps what it makes itself (the tls: auto
	// certificate): the dataDir: key, relative to the config file's
	// directory, by default "data" beside the config file.
	DataDir string
	// RTSP is the rtsp: block, defaults applied.
	RTSP RTSP
	// HLS is the global default block, defaults applied.
	HLS HLS
	// Cameras in the order they appear in the file.
	Cameras []Camera
	// Walls in the order they appear in the file.
	Walls []Wall

	// Log is the log: block, defaults applied.
	Log Log
	// Users are the viewers allowed in; none means everything is open.
	Users []User
	// TokenSecret signs view links (/cams/NAME/?token=...); "" when view
	// links are off. Never print it.
	TokenSecret string
	// AdminListen is the address of a second HTTP listener that alone
	// serves the admin routes (API writes, /metrics); "" serves them on
	// Listen to admin users (or to anyone when there are no users).
	AdminListen string
	// AllowOrigins are the origins (https://host[:port]) whose pages may
	// fetch HLS and API answers across origins (CORS); none by default.
	// "*" allows any.
	AllowOrigins []string
	// FrameAncestors are the origins whose pages may show rtsp2hls's pages
	// in a frame, beside rtsp2hls's own ('self'); "*" allows any.
	FrameAncestors []string
	// Limits is the limits: block, defaults applied.
	Limits Limits
}

// Log is how rtsp2hls logs.
type Log struct {
	// Format is "text" (default) or "json".
	Format string
	// Level is "debug", "info" (default), "warn" or "error".
	Level string
	// Requests logs one line per HTTP request (off by default).
	Requests bool
}

// User is a viewer allowed in when users: is set.
type User struct {
	Name string
	// PasswordHash is the bcrypt hash of the user's password, as printed
	// by rtsp2hls hash-password.
	PasswordHash string
	// Cameras are the camera names the user may watch; ["*"] for all.
	Cameras []string
	// Admin users may use the API writes and /metrics.
	Admin bool
	// Line is the line of the user in the config file.
	Line int
}

// MayWatch reports whether u may watch the camera called name (a
// substream goes with its camera).
func (u User) MayWatch(name string) bool {
	name, _, _ = strings.Cut(name, "/")
	for _, c := range u.Cameras {
		if c == AllCameras || c == name {
			return true
		}
	}
	return false
}

// Limits bound what clients may hold of the server.
type Limits struct {
	// BlockingPerClient caps the LL-HLS blocking playlist requests in
	// flight from one client address; over it the answer is 429.
	BlockingPerClient int
	// BlockingTotal caps them over all clients.
	BlockingTotal int
}

// Wall returns the wall called name.
func (c *Config) Wall(name string) (Wall, bool) {
	for _, w := range c.Walls {
		if w.Name == name {
			return w, true
		}
	}
	return Wall{}, false
}

// Profiles of hls.profile: a named part duration, the setting that most
// decides how far behind live a player is.
const (
	// ProfileDefault: 200 ms parts, about 0.5 s from capture to display
	// in the player, with 5 requests per second per viewer.
	ProfileDefault = "default"
	// ProfileLatency: 100 ms parts, about 0.25 s from capture to display,
	// at twice the requests per viewer (10 a second) and half the slack
	// (0.25 s buffered) for a slow network before the player stalls.
	ProfileLatency = "latency"
)

// profilePart is each profile's part duration.
var profilePart = map[string]time.Duration{
	ProfileDefault: 200 * time.Millisecond,
	ProfileLatency: 100 * time.Millisecond,
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
	// DefaultDataDir is relative to the config file's directory.
	DefaultDataDir = "data"
	// DefaultIdleTimeout is how long an on-demand camera runs without
	// requests.
	DefaultIdleTimeout = 60 * time.Second
	DefaultLog         = Log{Format: "text", Level: "info"}
	// DefaultLimits allow a wall of 64 cameras with substreams from one
	// address (or a NAT of a few viewers) and 10,000 blocked viewers.
	DefaultLimits = Limits{BlockingPerClient: 256, BlockingTotal: 10000}
)
