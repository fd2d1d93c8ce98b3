package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	mbits "github.com/bluenviron/mediacommon/v2/pkg/bits"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// Limits of an exec source. They bound the memory a misbehaving (or
// hostile) command can make rtsp2hls use.
const (
	// DefaultExecStartTimeout is how long a command may run without
	// sending an SPS, a PPS and an IDR before Read gives up on it.
	DefaultExecStartTimeout = 10 * time.Second
	// DefaultExecKillGrace is the time between SIGTERM and SIGKILL to the
	// command's process group.
	DefaultExecKillGrace = time.Second

	// maxNALUSize caps one NAL unit (with the zero padding after it). A
	// 4K IDR is a few hundred kB; bigger units are dropped.
	maxNALUSize = 8 << 20
	// maxAUSize caps the NAL units of one access unit, each counted with
	// auUnitOverhead so that a flood of tiny units is capped too.
	maxAUSize      = 8 << 20
	auUnitOverhead = 64

	execReadSize = 64 << 10 // bytes read from the command's stdout at a time

	stderrMaxLine  = 512 // bytes of one stderr line that are logged
	stderrBurst    = 40  // stderr lines logged at once (a start-up banner)...
	stderrPerSec   = 1.0 // ...and then per second
	stderrTailSize = 200 // bytes of the last stderr line quoted in errors
)

// ExecSource runs a command with /bin/sh -c and reads H.264 in Annex-B
// form from its standard output: rpicam-vid on a Raspberry Pi, an ffmpeg
// pipeline, anything that writes a raw H.264 stream.
//
// Raw H.264 carries no timestamps, so a frame's time is when it arrived:
// right for live encoders, which write each frame as soon as it is
// encoded. (It also means B-frames cannot be timed: they are warned about.)
//
// The command runs in its own process group. When Read ends, for whatever
// reason, the whole group gets SIGTERM, then SIGKILL after KillGrace, and
// the shell is waited for: nothing of the command, not even the other
// members of a pipeline, outlives its connection.
type ExecSource struct {
	Command string // run with /bin/sh -c

	// StartTimeout is how long the command may take to send its first
	// SPS, PPS and IDR. Zero means DefaultExecStartTimeout.
	StartTimeout time.Duration
	// KillGrace is how long the command has to exit after SIGTERM.
	// Zero means DefaultExecKillGrace.
	KillGrace time.Duration

	warnedB atomic.Bool // B-frames warned about (once per camera)
}

// Read implements Source: it runs the command once.
func (s *ExecSource) Read(ctx context.Context, feed *Feed) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	log, camera := feed.w.Log, feed.w.Name
	startTimeout := orDefault(s.StartTimeout, DefaultExecStartTimeout)
	grace := orDefault(s.KillGrace, DefaultExecKillGrace)

	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	er, ew, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("exec: %w", err)
	}
	cmd := exec.Command("/bin/sh", "-c", s.Command)
	// The write ends go to the command as they are (no copying goroutines
	// in os/exec), so Wait waits for the process only, and the read ends
	// are ours to drain or close.
	cmd.Stdout, cmd.Stderr = pw, ew
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	pw.Close()
	ew.Close()
	if err != nil {
		pr.Close()
		er.Close()
		return errors.New("cannot run the command: " + config.Redact(err.Error()))
	}
	pgid := cmd.Process.Pid // Setpgid: the shell leads a new group
	log.Debug("command started", "camera", camera, "pid", pgid, "command", config.Redact(s.Command))

	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	tail := &stderrTail{}
	stderrDone := make(chan struct{})
	go func() {
		defer close(stderrDone)
		logStderr(er, log, camera, tail)
	}()

	started := make(chan struct{})
	st := &execStream{src: s, feed: feed, log: log, camera: camera, started: started}
	parsed := make(chan error, 1)
	go func() { parsed <- st.run(pr) }()

	startTimer := time.NewTimer(startTimeout)
	defer startTimer.Stop()

	// Wait for the end of the connection: ctx, the output ending, the
	// command exiting, or no video in time.
	var (
		cause      error // why, unless it is the command's exit
		waitErr    error // the shell's exit, once leaderDone
		leaderDone bool
		parseDone  bool
	)
	startC := startTimer.C
	for cause == nil && !leaderDone && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-started:
			started, startC = nil, nil
		case <-startC:
			select {
			case <-started: // just in time
				started, startC = nil, nil
			default:
				cause = st.noVideo(startTimeout)
			}
		case err := <-parsed:
			parseDone = true
			if err != nil {
				cause = err
				break
			}
			// End of output: the command is exiting (or closed its stdout).
			select {
			case waitErr = <-exited:
				leaderDone = true
			case <-time.After(grace):
				cause = errors.New("the command closed its standard output")
			case <-ctx.Done():
			}
		case waitErr = <-exited:
			leaderDone = true
			// What it wrote before exiting is still in the pipe.
			select {
			case err := <-parsed:
				parseDone = true
				if err != nil {
					cause = err
				}
			case <-time.After(grace):
			case <-ctx.Done():
			}
		}
	}

	// Nothing of the command may stay behind, whatever ended the connection.
	waitErr = endGroup(pgid, exited, leaderDone, waitErr, grace)
	if !parseDone {
		drainOrClose(parsed, pr, 0)
	} else {
		pr.Close()
	}
	drainOrClose(stderrDone, er, 200*time.Millisecond)

	if ctx.Err() != nil {
		return ctx.Err()
	}
	if cause != nil {
		return errors.New(config.Redact(cause.Error()))
	}
	return exitError(waitErr, tail.get())
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// endGroup ends the command's process group: SIGTERM to all of it, SIGKILL
// to whatever is left after grace. It returns the shell's exit once it has
// been waited for (no zombie left).
func endGroup(pgid int, exited <-chan error, leaderDone bool, waitErr error, grace time.Duration) error {
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if leaderDone {
			reapGroup(pgid)
			if !groupAlive(pgid) {
				return waitErr
			}
		}
		wait := exited
		if leaderDone {
			wait = nil
		}
		select {
		case waitErr = <-wait:
			leaderDone = true
		case <-tick.C:
		case <-deadline.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			if !leaderDone {
				waitErr = <-exited
			}
			reapGroup(pgid)
			return waitErr
		}
	}
}

// reapGroup waits for the group's processes that are rtsp2hls's own
// children once the shell is gone: none, unless rtsp2hls is PID 1 (in a
// container) or a subreaper, where orphans are reparented to it and would
// stay zombies. Only after the shell was waited for: os/exec waits for it.
func reapGroup(pgid int) {
	for {
		pid, err := syscall.Wait4(-pgid, nil, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

// groupAlive reports whether a process of the group still runs. Killed
// processes that their new parent has not reaped yet still count for
// kill(2), so those are looked for in /proc and not counted.
func groupAlive(pgid int) bool {
	if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true // no /proc: wait for the grace period
	}
	want := strconv.Itoa(pgid)
	for _, e := range entries {
		if c := e.Name()[0]; c < '0' || c > '9' {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold anything.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 2 && f[2] == want && f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}

// drainOrClose waits up to d for a reader goroutine to end on its own (end
// of file: all the writers are gone), then closes its pipe, which ends it
// anyway (a grandchild that left the group may still hold the write end).
func drainOrClose[T any](done <-chan T, r *os.File, d time.Duration) {
	if d > 0 {
		select {
		case <-done:
			r.Close()
			return
		case <-time.After(d):
		}
	}
	r.Close()
	<-done
}

// exitError says how the command ended, with its last line of stderr,
// which usually says why.
func exitError(err error, tail string) error {
	var msg string
	var ee *exec.ExitError
	switch {
	case err == nil:
		msg = "command exited with status 0"
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			msg = fmt.Sprintf("command killed by signal %d (%v)", int(ws.Signal()), ws.Signal())
		} else {
			msg = fmt.Sprintf("command exited with status %d", ee.ExitCode())
		}
	default:
		msg = "command: " + err.Error()
	}
	if tail != "" {
		msg += ": " + tail
	}
	return errors.New(config.Redact(msg))
}

// execStream is one run's stdout turned into access units for the feed.
type execStream struct {
	src     *ExecSource
	feed    *Feed
	log     *slog.Logger
	camera  string
	started chan struct{} // closed at feed.Start

	nalus auStream
	err   error // from feed.Start: ends the run

	sps, pps []byte // newest valid parameter sets
	isLive   bool
	t0       time.Time
	lastPTS  int64
	warnedNU int // dropped units already warned about
	warnedAU int

	// What came, for the no-video message (read by Read's goroutine).
	bytesSeen, unitsSeen atomic.Int64
	typesSeen            atomic.Uint32 // bit n: a NAL unit of type n
	h265                 atomic.Bool   // an H.265 VPS came
}

// run reads the command's output until EOF (nil) or an error.
func (e *execStream) run(r io.Reader) error {
	buf := make([]byte, execReadSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			e.bytesSeen.Add(int64(n))
			e.feed.Alive()
			e.nalus.write(buf[:n], time.Now(), e.accessUnit)
			e.unitsSeen.Store(e.nalus.units)
			e.typesSeen.Store(e.nalus.types)
			e.h265.Store(e.nalus.h265)
			e.warnDrops()
			if e.err != nil {
				return e.err
			}
		}
		if err == io.EOF {
			e.nalus.flush(e.accessUnit)
			return e.err
		}
		if err != nil {
			return err
		}
	}
}

func (e *execStream) warnDrops() {
	if d := e.nalus.nal.dropped; d > e.warnedNU && d&(d-1) == 0 { // 1, 2, 4, 8...
		e.warnedNU = d
		e.log.Warn("command output: NAL unit over the size limit dropped", "camera", e.camera,
			"limit", fmt.Sprintf("%d MiB", maxNALUSize>>20), "dropped", d)
	}
	if d := e.nalus.dropped; d > e.warnedAU && d&(d-1) == 0 {
		e.warnedAU = d
		e.log.Warn("command output: access unit over the size limit dropped", "camera", e.camera,
			"limit", fmt.Sprintf("%d MiB", maxAUSize>>20), "dropped", d)
	}
}

// accessUnit handles one access unit that started arriving at at. Until
// the first IDR with known SPS and PPS nothing is decodable: access units
// only teach parameter sets. That IDR starts the feed.
func (e *execStream) accessUnit(au [][]byte, at time.Time) {
	if e.err != nil {
		return
	}
	idr := false
	kept := au[:0]
	for _, n := range au {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			if !bytes.Equal(n, e.sps) {
				var sps h264.SPS
				if sps.Unmarshal(n) == nil {
					e.sps = n
				}
			}
		case h264.NALUTypePPS:
			e.pps = n
		case h264.NALUTypeIDR:
			idr = true
		case h264.NALUTypeAccessUnitDelimiter:
			// Muxers write their own; one left in would end up behind
			// the parameter sets the segmenter puts in front of IDRs.
			continue
		}
		kept = append(kept, n)
	}
	if len(kept) == 0 {
		return
	}
	if !e.isLive {
		if !idr || e.sps == nil || e.pps == nil {
			return
		}
		err := e.feed.Start(Tracks{Video: &VideoTrack{Codec: CodecH264, SPS: e.sps, PPS: e.pps}})
		if err != nil {
			e.err = err
			return
		}
		e.isLive = true
		e.t0 = at
		close(e.started)
		e.feed.Video(0, kept)
		return
	}
	pts := durationTo90k(at.Sub(e.t0))
	if pts <= e.lastPTS {
		pts = e.lastPTS + 1 // a burst of frames in one read: keep pts increasing
	}
	e.lastPTS = pts
	if !e.src.warnedB.Load() && hasBSlice(kept) && !e.src.warnedB.Swap(true) {
		e.log.Warn("the command sends B-frames, which raw H.264 cannot time (it has no timestamps, frames are "+
			"timed by arrival): they play out of order; turn them off (ffmpeg: -bf 0, or -tune zerolatency)",
			"camera", e.camera)
	}
	e.feed.Video(pts, kept)
}

// noVideo is the error when no IDR with SPS and PPS came in time. It
// says what did come, as that tells a wrong output format (no start
// codes), missing parameter sets (rpicam-vid without --inline) and a
// command that writes nothing apart.
func (e *execStream) noVideo(d time.Duration) error {
	const hint = " (want H.264 in Annex-B form on stdout, with SPS and PPS before the IDR frames: " +
		"ffmpeg ... -c:v libx264 -f h264 -, rpicam-vid ... --inline -o -)"
	n, units, types := e.bytesSeen.Load(), e.unitsSeen.Load(), e.typesSeen.Load()
	var what string
	switch {
	case n == 0:
		what = fmt.Sprintf("the command wrote nothing to stdout in %v", d)
	case units == 0:
		what = fmt.Sprintf("the command wrote %d bytes in %v but no H.264 NAL unit", n, d)
	case e.h265.Load():
		what = fmt.Sprintf("the command sends H.265 (HEVC): only H.264 is read from commands, "+
			"re-encode it or stream it over RTSP (%d NAL units in %v)", units, d)
	default:
		var missing []string
		for _, m := range []struct {
			typ  h264.NALUType
			name string
		}{{h264.NALUTypeSPS, "SPS"}, {h264.NALUTypePPS, "PPS"}, {h264.NALUTypeIDR, "IDR frame"}} {
			if types&(1<<m.typ) == 0 {
				missing = append(missing, m.name)
			}
		}
		what = fmt.Sprintf("no H.264 video from the command in %v: %d NAL units, but no %s",
			d, units, strings.Join(missing, " or "))
		if len(missing) == 0 {
			what = fmt.Sprintf("no H.264 video from the command in %v: %d NAL units, but no IDR frame after a valid SPS and PPS", d, units)
		}
	}
	return errors.New(what + hint)
}

// hasBSlice reports whether the access unit's first slice is a B slice.
func hasBSlice(au [][]byte) bool {
	for _, n := range au {
		typ := h264.NALUType(n[0] & 0x1f)
		if typ != h264.NALUTypeNonIDR && typ != h264.NALUTypeIDR {
			continue
		}
		// slice_header: first_mb_in_slice ue(v), slice_type ue(v). Both
		// sit in the first bytes; emulation prevention is undone there.
		head := h264.EmulationPreventionRemove(n[1:min(len(n), 16)])
		pos := 0
		if _, err := mbits.ReadGolombUnsigned(head, &pos); err != nil {
			return false
		}
		st, err := mbits.ReadGolombUnsigned(head, &pos)
		return err == nil && st%5 == 1 // 1 and 6 are B
	}
	return false
}

// durationTo90k converts without overflow for any uptime.
func durationTo90k(d time.Duration) int64 {
	return int64(d/time.Second)*90000 + int64(d%time.Second)*90000/int64(time.Second)
}

// auStream turns a byte stream into access units: nalSplitter, then
// auSplitter, with a cap on the size of an access unit (an access unit
// over it is dropped and counted). Each access unit comes with the time
// its first NAL unit started arriving.
type auStream struct {
	nal     nalSplitter
	split   auSplitter
	max     int       // 0 means maxAUSize
	size    int       // of the access unit being gathered
	at      time.Time // when it started
	dropped int       // access units over max
	units   int64     // NAL units seen
	types   uint32    // bit n set: a NAL unit of type n was seen
	h265    bool      // an H.265 VPS was seen (header 40 01)
	emitAU  func([][]byte, time.Time)
}

func (a *auStream) write(b []byte, t time.Time, emit func(au [][]byte, at time.Time)) {
	a.emitAU = emit
	a.nal.write(b, t, a.push)
}

func (a *auStream) flush(emit func(au [][]byte, at time.Time)) {
	a.emitAU = emit
	a.nal.flush(a.push)
	if au := a.split.flush(); au != nil {
		emit(au, a.at)
	}
	a.size = 0
}

func (a *auStream) push(n []byte, t time.Time) {
	if len(n) == 0 {
		return
	}
	a.units++
	a.types |= 1 << (n[0] & 0x1f)
	a.h265 = a.h265 || (len(n) > 2 && n[0] == 0x40 && n[1] == 0x01)
	limit := a.max
	if limit <= 0 {
		limit = maxAUSize
	}
	wasEmpty := len(a.split.cur) == 0
	if au := a.split.push(n); au != nil {
		prev := a.at
		a.at, a.size = t, 0
		for _, u := range a.split.cur {
			a.size += len(u) + auUnitOverhead
		}
		a.emitAU(au, prev)
	} else {
		if wasEmpty {
			a.at = t
		}
		a.size += len(n) + auUnitOverhead
	}
	if a.size > limit {
		a.split.flush()
		a.size = 0
		a.dropped++
	}
}

// stderrTail keeps the command's last line of stderr for its exit error.
type stderrTail struct {
	mu   sync.Mutex
	line string
}

func (t *stderrTail) set(s string) {
	if len(s) > stderrTailSize {
		s = strings.ToValidUTF8(s[:stderrTailSize], "") + "…"
	}
	t.mu.Lock()
	t.line = s
	t.mu.Unlock()
}

func (t *stderrTail) get() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.line
}

// logStderr logs the command's stderr line by line (a \r ends a line too,
// for progress output), each line redacted and cut at stderrMaxLine bytes,
// at most stderrBurst lines at once and stderrPerSec after that; the lines
// left out are counted in the next one logged.
func logStderr(r io.Reader, log *slog.Logger, camera string, tail *stderrTail) {
	tokens, last := float64(stderrBurst), time.Now()
	suppressed := 0
	line := make([]byte, 0, stderrMaxLine)
	cut := false
	flush := func() {
		if len(line) == 0 {
			cut = false
			return
		}
		text := config.Redact(strings.ToValidUTF8(string(line), "\uFFFD"))
		if cut {
			text += "…"
		}
		line, cut = line[:0], false
		tail.set(text)
		now := time.Now()
		tokens = min(tokens+now.Sub(last).Seconds()*stderrPerSec, stderrBurst)
		last = now
		if tokens < 1 {
			suppressed++
			return
		}
		tokens--
		args := []any{"camera", camera, "line", text}
		if suppressed > 0 {
			args = append(args, "suppressed", suppressed)
			suppressed = 0
		}
		level := slog.LevelInfo
		if looksBad(text) {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "command stderr", args...)
	}
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		for _, c := range buf[:n] {
			switch {
			case c == '\n' || c == '\r':
				flush()
			case len(line) < stderrMaxLine:
				line = append(line, c)
			default:
				cut = true
			}
		}
		if err != nil {
			flush()
			if suppressed > 0 {
				log.Info("command stderr", "camera", camera, "suppressed", suppressed)
			}
			return
		}
	}
}

var badWords = []string{"error", "fail", "fatal", "warn", "invalid", "cannot", "can't", "unable",
	"refused", "denied", "not found", "no such", "unsupported"}

// looksBad tells lines worth a warning from a command's chatter.
func looksBad(s string) bool {
	s = strings.ToLower(s)
	for _, w := range badWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
