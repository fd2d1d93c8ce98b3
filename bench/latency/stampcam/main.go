// Command stampcam is a test camera whose every frame carries, drawn into
// the picture, the wall-clock time it was captured (see stamp.go), so that
// whoever shows the frame can tell how old it is. It renders grey frames
// in real time, stamps each with the time just before it is handed to the
// encoder, and pipes them to ffmpeg (libx264, low-latency settings):
//
//	stampcam -out -                           H.264 Annex-B on stdout (an exec: camera)
//	stampcam -out rtsp://127.0.0.1:8554/cam   published over RTSP (a publish camera)
//	stampcam -check 10s                       encode and decode with ffmpeg, read the
//	                                          stamps back and print that delay
//	stampcam -describe                        print the ffmpeg command and exit
//
// The encoder's delay is part of what a reader measures, as a real
// camera's is.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

type options struct {
	width, height, fps, gop int
	ffmpeg, x264Preset      string
	out                     string
}

func main() {
	var o options
	size := flag.String("size", "640x360", "picture size WxH (width a multiple of 20)")
	flag.IntVar(&o.fps, "fps", 30, "frames per second")
	flag.IntVar(&o.gop, "gop", 0, "keyframe interval in frames (0: one a second)")
	flag.StringVar(&o.ffmpeg, "ffmpeg", "ffmpeg", "ffmpeg binary")
	flag.StringVar(&o.x264Preset, "preset", "ultrafast", "x264 preset")
	flag.StringVar(&o.out, "out", "-", `where the H.264 goes: "-" (Annex-B on stdout) or an rtsp:// URL to publish to`)
	check := flag.Duration("check", 0, "encode and decode locally for this long and print the delay (no -out)")
	describe := flag.Bool("describe", false, "print the ffmpeg encoder command and exit")
	flag.Parse()
	log.SetPrefix("stampcam: ")
	log.SetFlags(0)
	if _, err := fmt.Sscanf(*size, "%dx%d", &o.width, &o.height); err != nil || o.width%stampCols != 0 ||
		o.width/stampCols*stampRows > o.height || o.width%2 != 0 || o.height%2 != 0 {
		log.Fatalf("bad -size %q: WxH, even, width a multiple of %d", *size, stampCols)
	}
	if o.gop <= 0 {
		o.gop = o.fps
	}
	if *describe {
		fmt.Println(strings.Join(append([]string{o.ffmpeg}, o.encoderArgs(o.out)...), " "))
		return
	}
	if *check > 0 {
		runCheck(o, *check)
		return
	}
	enc := exec.Command(o.ffmpeg, o.encoderArgs(o.out)...)
	enc.Stdout, enc.Stderr = os.Stdout, os.Stderr
	// ffmpeg goes when we go, however we go.
	enc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := enc.StdinPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := enc.Start(); err != nil {
		log.Fatal(err)
	}
	log.Printf("%dx%d at %d fps, stamped, into: %s", o.width, o.height, o.fps, strings.Join(enc.Args, " "))
	err = render(o, in, 0)
	in.Close()
	enc.Wait() //nolint:errcheck // we are going anyway
	log.Fatal(err)
}

// encoderArgs is the ffmpeg command line (without the binary) that
// encodes the raw frames on stdin for out.
func (o options) encoderArgs(out string) []string {
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "rawvideo", "-pix_fmt", "gray", "-video_size", fmt.Sprintf("%dx%d", o.width, o.height),
		"-framerate", fmt.Sprint(o.fps), "-i", "pipe:0",
		"-c:v", "libx264", "-preset", o.x264Preset, "-tune", "zerolatency",
		"-g", fmt.Sprint(o.gop), "-keyint_min", fmt.Sprint(o.gop), "-sc_threshold", "0", "-bf", "0",
		"-pix_fmt", "yuv420p"}
	switch {
	case out == "-":
		return append(args, "-flush_packets", "1", "-f", "h264", "pipe:1")
	case strings.HasPrefix(out, "rtsp://"):
		return append(args, "-f", "rtsp", "-rtsp_transport", "tcp", out)
	default:
		return append(args, "-flush_packets", "1", "-f", "h264", out)
	}
}

// render writes stamped frames to w in real time, for d (0: until a write
// fails). A frame late by more than one period is skipped, as a camera
// drops frames it cannot send. The first frame waits for the encoder to
// start; the schedule starts after it.
func render(o options, w io.Writer, d time.Duration) error {
	pix := make([]byte, o.width*o.height)
	period := time.Second / time.Duration(o.fps)
	start := time.Now()
	skipped := 0
	for n := 0; d == 0 || time.Duration(n)*period < d; n++ {
		due := start.Add(time.Duration(n) * period)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		} else if -wait > period {
			skipped++
			if skipped&(skipped-1) == 0 {
				log.Printf("%d frames skipped: the encoder does not keep up", skipped)
			}
			continue
		}
		drawScene(pix, o.width, o.height, n)
		drawStamp(pix, o.width, uint32(time.Now().UnixMilli()), uint16(n))
		if _, err := w.Write(pix); err != nil {
			return err
		}
		if n == 0 {
			start = time.Now() // the encoder has started: the clock starts now
		}
	}
	return nil
}

// runCheck encodes for d, decodes with a second ffmpeg and reads every
// stamp back: the encoder and decoder delay, and proof that the stamp
// survives the encoder.
func runCheck(o options, d time.Duration) {
	enc := exec.Command(o.ffmpeg, o.encoderArgs("-")...)
	dec := exec.Command(o.ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
		"-fflags", "nobuffer", "-flags", "low_delay", "-probesize", "32", "-analyzeduration", "0",
		"-threads", "1", "-f", "h264", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	for _, c := range []*exec.Cmd{enc, dec} {
		c.Stderr = os.Stderr
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	in, err := enc.StdinPipe()
	if err != nil {
		log.Fatal(err)
	}
	dec.Stdin, err = enc.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	out, err := dec.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := enc.Start(); err != nil {
		log.Fatal(err)
	}
	if err := dec.Start(); err != nil {
		log.Fatal(err)
	}
	go func() {
		render(o, in, d) //nolint:errcheck // the reader below tells
		in.Close()
	}()
	frame := make([]byte, o.width*o.height)
	var lat []float64
	frames, bad := 0, 0
	for {
		if _, err := io.ReadFull(out, frame); err != nil {
			break
		}
		now := time.Now().UnixMilli()
		frames++
		ms, _, ok := readStamp(frame, o.width)
		if !ok {
			bad++
			continue
		}
		lat = append(lat, float64(uint32(now)-ms))
	}
	enc.Wait() //nolint:errcheck // done
	dec.Wait() //nolint:errcheck // done
	if frames == 0 {
		log.Fatal("no frame came out of the decoder")
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return -1
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("encoder: %s\n", strings.Join(append([]string{o.ffmpeg}, o.encoderArgs("-")...), " "))
	fmt.Printf("decoder: %s\n", strings.Join(dec.Args, " "))
	fmt.Printf("frames %d, stamps read %d (%.1f %%), capture to decoded: p50 %.0f ms, p95 %.0f ms, max %.0f ms\n",
		frames, len(lat), 100*float64(len(lat))/float64(frames), q(0.5), q(0.95), q(1))
	if len(lat) < frames*9/10 {
		os.Exit(1)
	}
}
