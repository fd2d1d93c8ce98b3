package config_test

import (
	"fmt"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// Each camera carries its effective settings: the global hls block with
// the camera's own overrides applied, and its password hidden on display.
func Example() {
	cfg, err := config.Parse([]byte(`
hls:
  segmentDuration: 2s
cameras:
  lobby:
    source: rtsp://admin:secret@192.168.1.10:554/stream1
    transport: tcp
    hls: { variant: fmp4, segmentCount: 5 }
  demo1:
    source: demo
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("listen", cfg.Listen)
	for _, c := range cfg.Cameras {
		h := c.HLS
		fmt.Printf("%s (line %d): %s over %s, %s, %v segments (%v parts), keep %d\n",
			c.Name, c.Line, c.Redacted(), c.Transport, h.Variant, h.SegmentDuration, h.PartDuration, h.SegmentCount)
	}
	// Output:
	// listen :8080
	// lobby (line 5): rtsp://admin:xxxxx@192.168.1.10:554/stream1 over tcp, fmp4, 2s segments (200ms parts), keep 5
	// demo1 (line 9): demo over auto, lowLatency, 2s segments (200ms parts), keep 7
}

// All mistakes are reported at once, each with its line.
func ExampleError() {
	_, err := config.Parse([]byte(`
hls:
  segmentDurtion: 1s
cameras:
  Lobby:
    source: http://admin:secret@cam/x
`))
	fmt.Println(err)
	// Output:
	// config:3: unknown key "segmentDurtion" in hls (known: variant, segmentDuration, partDuration, segmentCount, profile); did you mean "segmentDuration"?
	// config:5: camera name "Lobby" is invalid: names are used in URLs and must match ^[a-z0-9][a-z0-9_-]*$ (lowercase letters, digits, '_' and '-', starting with a letter or digit)
	// config:6: camera "Lobby": source "http://admin:xxxxx@cam/x" must be an rtsp://, rtsps:// or rtp:// URL, demo, publish or exec:COMMAND, not http://
}
