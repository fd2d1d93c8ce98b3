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
// cannot check that: a camera's codecs are known only once its RTSP
// session is described, so a camera set to mpegts that sends H.265 or
// Opus fails at runtime, when its muxer starts, not here.
const (
	VariantLowLatency Variant = "lowLatency" // LL-HLS: fMP4 segments made of parts, blocking reloads
	VariantFMP4       Variant = "fmp4"       // plain HLS with fMP4 segments
	VariantMPEGTS     Variant = "mpegts"     // plain HLS with MPEG-TS segments (H.264 + AAC only)
)

// Transport is how an RTSP camera's RTP packets travel.
type Transport string

// The transports an RTSP pull can use.
const (
	TransportAuto Transport = "auto" // UDP, then TCP when UDP gets nothing
	TransportTCP  Transport = "tcp"  // RTP interleaved in the RTSP TCP connection
	TransportUDP  Transport = "udp"  // RTP over UDP only
)

// SourceDemo is the source value of the built-in demo camera.
const SourceDemo = "demo"

// HLS holds the muxing settings of a camera.
type HLS struct {
	Variant         Variant
	SegmentDuration time.Duration
	PartDuration    time.Duration
	SegmentCount    int
}

// Camera is one configured camera with its effective settings.
type Camera struct {
	// Name is used in URLs: /cams/{Name}/.
	Name string
	// Source is the camera's URL as written, password included.
	// Print Redact(Source), never Source.
	Source    string
	Transport Transport
	// HLS is the global hls: block with this camera's overrides applied.
	HLS HLS
	// Line is the line of the camera's key in the config file.
	Line int
}

// Config is a loaded, validated config file.
type Config struct {
	// Path is the file the config was loaded from ("" when parsed from bytes).
	Path   string
	Listen string
	// HLS is the global default block, defaults applied.
	HLS HLS
	// Cameras in the order they appear in the file.
	Cameras []Camera
}

// Defaults used when a key is absent.
var (
	DefaultListen = ":8080"
	DefaultHLS    = HLS{
		Variant:         VariantLowLatency,
		SegmentDuration: time.Second,
		PartDuration:    200 * time.Millisecond,
		SegmentCount:    7,
	}
)
