package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
)

// execSink records what an exec source delivered.
type execSink struct {
	mu       sync.Mutex
	starts   []Tracks
	aus      [][][]byte
	pts      []int64
	stops    []error
	startErr error
}

func (s *execSink) Start(t Tracks) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.starts = append(s.starts, t)
	return s.startErr
}

func (s *execSink) WriteVideo(pts int64, _ time.Time, au [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.aus = append(s.aus, au)
	s.pts = append(s.pts, pts)
}

func (s *execSink) WriteAudio(int64, time.Time, [][]byte) {}

func (s *execSink) Stop(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stops = append(s.stops, err)
}

func (s *execSink) counts() (starts, frames int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.starts), len(s.aus)
}

// syncBuffer is a log destination the test can read while the source writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// execFeed is a feed as a worker named "pi" would give it to Read.
func execFeed(sink Sink) (*Feed, *syncBuffer) {
	logs := &syncBuffer{}
	w := &Worker{Name: "pi", Sink: sink, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	return &Feed{w: w}, logs
}

func testH264(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../segmenter/testdata/160x90.h264")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// referenceAUs is what the file holds from its first IDR on, split as a
// whole by SplitAnnexB and auSplitter, without access unit delimiters.
func referenceAUs(t *testing.T, path string) (aus [][][]byte, sps, pps []byte) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s auSplitter
	var all [][][]byte
	for _, n := range SplitAnnexB(data) {
		if au := s.push(n); au != nil {
			all = append(all, au)
		}
	}
	all = append(all, s.flush())
	live := false
	for _, au := range all {
		var kept [][]byte
		idr := false
		for _, n := range au {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				sps = n
			case h264.NALUTypePPS:
				pps = n
			case h264.NALUTypeIDR:
				idr = true
			case h264.NALUTypeAccessUnitDelimiter:
				continue
			}
			kept = append(kept, n)
		}
		live = live || (idr && sps != nil && pps != nil)
		if live && len(kept) > 0 {
			aus = append(aus, kept)
		}
	}
	return aus, sps, pps
}

func readExec(t *testing.T, src *ExecSource, sink *execSink) (error, *syncBuffer, time.Duration) {
	t.Helper()
	feed, logs := execFeed(sink)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err := src.Read(ctx, feed)
	return err, logs, time.Since(start)
}

// The command's stdout becomes exactly the access units of the file, in
// order, with SPS and PPS learnt from the stream and increasing pts; the
// exit is an error with the status. dd writes the file 7 bytes at a time,
// so start codes and NAL units straddle reads.
func TestExecSourceReadsAnnexB(t *testing.T) {
	file := testH264(t)
	want, sps, pps := referenceAUs(t, file)
	for _, command := range []string{
		"cat " + file,
		"dd if=" + file + " bs=7 status=none",
	} {
		t.Run(strings.Fields(command)[0], func(t *testing.T) {
			sink := &execSink{}
			err, _, _ := readExec(t, &ExecSource{Command: command}, sink)
			if err == nil || err.Error() != "command exited with status 0" {
				t.Fatalf("Read = %v, want the exit status", err)
			}
			if len(sink.starts) != 1 {
				t.Fatalf("%d starts, want 1", len(sink.starts))
			}
			v := sink.starts[0].Video
			if v == nil || v.Codec != CodecH264 || !bytes.Equal(v.SPS, sps) || !bytes.Equal(v.PPS, pps) {
				t.Fatalf("tracks = %+v, want H264 with the file's SPS and PPS", v)
			}
			if len(sink.aus) != len(want) {
				t.Fatalf("%d access units, want %d", len(sink.aus), len(want))
			}
			for i := range want {
				if fmt.Sprintf("%x", sink.aus[i]) != fmt.Sprintf("%x", want[i]) {
					t.Fatalf("access unit %d differs:\n got %x\nwant %x", i, sink.aus[i], want[i])
				}
				if i > 0 && sink.pts[i] <= sink.pts[i-1] {
					t.Fatalf("pts %d after %d at frame %d: must increase", sink.pts[i], sink.pts[i-1], i)
				}
			}
			if sink.pts[0] != 0 {
				t.Errorf("first pts = %d, want 0", sink.pts[0])
			}
			t.Logf("%d access units, first IDR with SPS and PPS in front", len(sink.aus))
		})
	}
}

// Timestamps are arrival times: a command writing a frame every 100 ms
// gives pts about 9000 apart.
func TestExecSourceTimestampsAreArrivalTimes(t *testing.T) {
	want, _, _ := referenceAUs(t, testH264(t))
	dir := t.TempDir()
	var cmd strings.Builder
	const n = 10
	for i := range n {
		var b []byte
		for _, nalu := range want[i] {
			b = append(append(b, 0, 0, 0, 1), nalu...)
		}
		name := filepath.Join(dir, fmt.Sprintf("f%d", i))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&cmd, "cat %s; sleep 0.1; ", name)
	}
	// A last AUD ends the last frame's access unit while the command runs.
	cmd.WriteString(`printf '\000\000\000\001\011\360'; sleep 0.2`)
	sink := &execSink{}
	readExec(t, &ExecSource{Command: cmd.String()}, sink)
	if len(sink.pts) != n {
		t.Fatalf("%d frames, want %d", len(sink.pts), n)
	}
	// Each step is 100 ms plus starting cat and sleep; one late read
	// shortens the next step, so look at the average.
	if avg := (sink.pts[n-1] - sink.pts[0]) / (n - 1); avg < 8500 || avg > 30000 {
		t.Errorf("pts step %d on average (%.0f ms), want about 9000 (100 ms)", avg, float64(avg)/90)
	}
	t.Logf("pts: %v", sink.pts)
}

// An exit says the status and the command's last word on stderr, which
// is also logged, with the camera's name; passwords are hidden in both.
func TestExecSourceExitStatusAndStderr(t *testing.T) {
	sink := &execSink{}
	err, logs, _ := readExec(t, &ExecSource{Command: `echo starting >&2; echo 'cannot open rtsp://admin:hunter2@cam/stream' >&2; exit 3`}, sink)
	want := "command exited with status 3: cannot open rtsp://admin:xxxxx@cam/stream"
	if err == nil || err.Error() != want {
		t.Fatalf("Read = %v, want %q", err, want)
	}
	out := logs.String()
	for _, line := range []string{
		`level=INFO msg="command stderr" camera=pi line=starting`,
		`level=WARN msg="command stderr" camera=pi line="cannot open rtsp://admin:xxxxx@cam/stream"`,
	} {
		if !strings.Contains(out, line) {
			t.Errorf("log lacks %s:\n%s", line, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("the log shows the password:\n%s", out)
	}
	if starts, _ := sink.counts(); starts != 0 {
		t.Errorf("sink started without video")
	}

	// Killed by a signal.
	err, _, _ = readExec(t, &ExecSource{Command: `kill -9 $$`}, sink)
	if err == nil || err.Error() != "command killed by signal 9 (killed)" {
		t.Errorf("Read = %v, want killed by signal 9", err)
	}
	// Not found: sh says so on stderr.
	err, _, _ = readExec(t, &ExecSource{Command: `rpicam-vid-not-installed -o -`}, sink)
	if err == nil || !strings.Contains(err.Error(), "status 127") || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Read = %v, want status 127 and not found", err)
	}
}

// A chatty command cannot flood the log: lines are cut and rate limited.
func TestExecSourceStderrIsRateLimited(t *testing.T) {
	err, logs, _ := readExec(t, &ExecSource{Command: `head -c 100000 /dev/zero | tr '\0' a >&2; echo >&2; yes 'frame 1 error' | head -n 20000 >&2; exit 1`}, &execSink{})
	if err == nil || !strings.Contains(err.Error(), "status 1: frame 1 error") {
		t.Fatalf("Read = %v", err)
	}
	out := logs.String()
	lines := strings.Count(out, `msg="command stderr"`)
	if lines > stderrBurst+3 {
		t.Errorf("%d stderr lines logged, want at most about %d", lines, stderrBurst)
	}
	if !strings.Contains(out, "suppressed=") {
		t.Errorf("the log does not say lines were left out")
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > stderrMaxLine+200 {
			t.Fatalf("a %d-byte log line: long stderr lines must be cut", len(l))
		}
	}
	t.Logf("20001 lines on stderr, %d logged", lines)
}

// groupProcs returns the live (not zombie) processes in process group pgid.
func groupProcs(t *testing.T, pgid int) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var procs []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if f[2] == strconv.Itoa(pgid) {
			procs = append(procs, e.Name()+" "+string(stat[bytes.IndexByte(stat, '(')+1:i]))
		}
	}
	return procs
}

func execWaitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readPID waits for the command to write its shell's pid (its group) to path.
func readPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the command did not write its pid")
	return 0
}

// Cancelling (reload, shutdown) ends the whole pipeline, not just the
// shell, and leaves no process behind; one that ignores SIGTERM gets
// SIGKILL after the grace period.
func TestExecSourceKillsProcessGroup(t *testing.T) {
	for _, tc := range []struct{ name, command string }{
		{"pipeline", "sleep 1000 | sleep 1000"},
		{"ignores SIGTERM", "trap '' TERM; sleep 1000 | sleep 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "pid")
			src := &ExecSource{Command: "echo $$ > " + pidFile + "; " + tc.command, KillGrace: 300 * time.Millisecond}
			feed, _ := execFeed(&execSink{})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- src.Read(ctx, feed) }()

			pgid := readPID(t, pidFile)
			execWaitFor(t, "the pipeline to run", func() bool { return len(groupProcs(t, pgid)) == 3 })
			t.Logf("running: %v", groupProcs(t, pgid))
			cancel()
			start := time.Now()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Read = %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Read did not return after cancel")
			}
			took := time.Since(start)
			if left := groupProcs(t, pgid); len(left) > 0 {
				t.Fatalf("processes left after cancel: %v", left)
			}
			t.Logf("all gone %v after cancel", took.Round(time.Millisecond))
			if took > 2*time.Second {
				t.Errorf("took %v to end the command", took)
			}
		})
	}
}

// The command exiting ends the connection even when a child it left in
// the background still holds stdout open; the child is ended too.
func TestExecSourceExitLeavesNothingBehind(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	err, _, took := readExec(t, &ExecSource{Command: "echo $$ > " + pidFile + "; sleep 1000 & sleep 0.2; exit 4"}, &execSink{})
	if err == nil || err.Error() != "command exited with status 4" {
		t.Fatalf("Read = %v", err)
	}
	if left := groupProcs(t, readPID(t, pidFile)); len(left) > 0 {
		t.Fatalf("processes left: %v", left)
	}
	if took > 4*time.Second {
		t.Errorf("took %v", took)
	}

	// Closing stdout and staying is an end too.
	err, _, _ = readExec(t, &ExecSource{Command: "exec >&-; sleep 1000", KillGrace: 200 * time.Millisecond}, &execSink{})
	if err == nil || err.Error() != "the command closed its standard output" {
		t.Fatalf("Read = %v", err)
	}
}

// Before video starts Read times out by itself (the worker's watchdog only
// runs after Start), and says what it got.
func TestExecSourceNoVideoTimesOut(t *testing.T) {
	for _, tc := range []struct{ name, command, want string }{
		{"silent", "sleep 1000", "the command wrote nothing to stdout in 500ms"},
		{"not H.264", `head -c 100000 /dev/zero | tr '\0' x; sleep 1000`, "wrote 100000 bytes in 500ms but no H.264 NAL unit"},
		{"H.265", `printf '\000\000\000\001\100\001\014\000\000\001\102\001\001\000\000\001\104\001\300'; sleep 1000`, "the command sends H.265 (HEVC)"},
		{"no parameter sets", `printf '\000\000\000\001\011\360\000\000\001\145\210\000\000\001\011\360'; sleep 1000`, "2 NAL units, but no SPS or PPS ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err, _, took := readExec(t, &ExecSource{Command: tc.command, StartTimeout: 500 * time.Millisecond}, &execSink{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read = %v, want %q", err, tc.want)
			}
			if took > 3*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
}

// A sink that refuses the video ends the run with its error.
func TestExecSourceSinkRefuses(t *testing.T) {
	sink := &execSink{startErr: errors.New("no thanks")}
	err, _, _ := readExec(t, &ExecSource{Command: "cat " + testH264(t) + "; sleep 1000"}, sink)
	if err == nil || err.Error() != "no thanks" {
		t.Fatalf("Read = %v", err)
	}
}

// Under a worker, a command that ends is run again, and each run is a
// new connection to the sink.
func TestExecSourceRestartedByWorker(t *testing.T) {
	sink := &execSink{}
	w := &Worker{Name: "pi", Source: &ExecSource{Command: "cat " + testH264(t) + "; sleep 0.3"}, Sink: sink, Log: slog.New(slog.DiscardHandler),
		Backoff: Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	execWaitFor(t, "three runs", func() bool {
		starts, _ := sink.counts()
		return starts >= 3
	})
	st := w.Status()
	if st.Reconnects < 2 || !strings.Contains(st.LastError, "command exited with status 0") {
		t.Fatalf("status = %+v", st)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.stops) < 2 {
		t.Fatalf("%d stops", len(sink.stops))
	}
}

// Units and access units over the limits are dropped and counted, and the
// rest goes on; memory stays bounded whatever the input.
func TestExecStreamLimits(t *testing.T) {
	var p nalSplitter
	p.max = 100
	var got [][]byte
	emit := func(n []byte, _ time.Time) { got = append(got, n) }
	big := bytes.Repeat([]byte{0x41, 0x55}, 200)
	in := append([]byte{0, 0, 1, 0x67, 1}, 0, 0, 1)
	in = append(in, big...)
	in = append(in, 0, 0, 1, 0x68, 2, 0, 0, 1, 0x65)
	for i := 0; i < len(in); i += 10 { // in chunks, so the big unit is dropped before its end
		p.write(in[i:min(i+10, len(in))], time.Time{}, emit)
		if cap(p.buf) > 2*p.max+2*execReadSize {
			t.Fatalf("buffer grew to %d", cap(p.buf))
		}
	}
	p.flush(emit)
	if fmt.Sprintf("%x", got) != "[6701 6802 65]" || p.dropped != 1 {
		t.Fatalf("got %x, %d dropped; want 6701 6802 65 and 1 dropped", got, p.dropped)
	}

	// A stream that never ends an access unit (slices of one picture for
	// ever) is cut at the access unit limit.
	var a auStream
	a.max = 1000
	var aus int
	slice := []byte{0, 0, 1, 0x41, 0x40, 1, 2, 3} // first_mb_in_slice != 0: same picture
	for range 1000 {
		a.write(slice, time.Time{}, func([][]byte, time.Time) { aus++ })
		if a.size > a.max {
			t.Fatalf("access unit grew to %d", a.size)
		}
	}
	if a.dropped == 0 || len(a.split.cur) > a.max/auUnitOverhead {
		t.Fatalf("%d dropped, %d units pending", a.dropped, len(a.split.cur))
	}
}

func TestHasBSlice(t *testing.T) {
	// first_mb_in_slice 0 (1), slice_type as ue(v): P=0 (1), B=1 (010), I=2 (011), B=6 (00111).
	for _, tc := range []struct {
		nalu []byte
		want bool
	}{
		{[]byte{0x41, 0b1_1_000000}, false},
		{[]byte{0x01, 0b1_010_0000}, true},
		{[]byte{0x65, 0b1_011_0000}, false},
		{[]byte{0x01, 0b1_00111_00}, true},
		{[]byte{0x01}, false},
	} {
		if got := hasBSlice([][]byte{{0x09, 0xf0}, tc.nalu}); got != tc.want {
			t.Errorf("hasBSlice(%x) = %v", tc.nalu, got)
		}
	}
}
