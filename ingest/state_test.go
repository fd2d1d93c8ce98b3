package ingest

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// stateLines returns the "camera state" lines of logs at level (INFO,
// DEBUG) as "state reason" strings.
func stateLines(logs, level string) []string {
	var out []string
	re := regexp.MustCompile(`level=` + level + ` msg="camera state" camera=\S+ state=(\S+) reason=(.*)$`)
	for _, l := range strings.Split(logs, "\n") {
		if m := re.FindStringSubmatch(l); m != nil {
			out = append(out, m[1]+" "+strings.Trim(m[2], `"`))
		}
	}
	return out
}

// Each change of state is one Info line with its reason; the transport of
// an RTSP pull is in the status while connected.
func TestStateLinesAndTransport(t *testing.T) {
	demo, err := StartDemo(discardLog())
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	w := &Worker{Name: "d", Source: &RTSPSource{URL: demo.URL(), Transport: config.TransportTCP}, Sink: &recordSink{},
		Log:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Backoff: Backoff{Min: 20 * time.Millisecond, Max: 20 * time.Millisecond}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.RunBecause(ctx, "requested by a viewer"); close(done) }()
	defer func() { cancel(); <-done }()

	waitUntil(t, "live", func() bool { return w.Status().State == StateLive })
	if tr := w.Status().Transport; tr != "tcp" {
		t.Errorf("transport while live = %q, want tcp", tr)
	}
	demo.Close()
	waitUntil(t, "5 failed retries", func() bool { return w.Status().Reconnects >= 6 })
	if st := w.Status(); st.Transport != "" {
		t.Errorf("transport while %s = %q, want none", st.State, st.Transport)
	}

	// The loss (EOF or a reset) and the first failed retry (connection
	// refused) are news, each with the retry after it.
	info := stateLines(logs.String(), "INFO")
	want := []string{"connecting requested by a viewer", "live receiving video", "offline ",
		"connecting retrying after 20ms", "offline dial tcp", "connecting retrying after 20ms"}
	if len(info) != len(want) {
		t.Fatalf("info lines:\n%s", strings.Join(info, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(info[i], w) {
			t.Errorf("line %d = %q, want %q…", i, info[i], w)
		}
	}
	if info[2] == "offline " {
		t.Error("the loss has no reason")
	}
	// The same failure again and again is at Debug, not a line a second.
	if debug := stateLines(logs.String(), "DEBUG"); len(debug) < 4 {
		t.Errorf("repeated failures at debug: %q", debug)
	}

	cancel()
	<-done
	w.SetIdle("no requests for 1m0s")
	w.SetIdle("no requests for 1m0s")
	if got := stateLines(logs.String(), "INFO"); len(got) != len(want)+1 || got[len(want)] != "idle no requests for 1m0s" {
		t.Errorf("idle lines: %q", got[len(want):])
	}
	if st := w.Status(); st.State != StateIdle {
		t.Errorf("state %s, want idle", st.State)
	}
}

func TestTransportOf(t *testing.T) {
	for p, want := range map[gortsplib.Protocol]string{
		gortsplib.ProtocolTCP: "tcp", gortsplib.ProtocolUDP: "udp", gortsplib.ProtocolUDPMulticast: "multicast",
	} {
		if got := transportOf(&gortsplib.ClientTransport{Session: &gortsplib.SessionTransport{Protocol: p}}); got != want {
			t.Errorf("%v: %q, want %q", p, got, want)
		}
	}
	if got := transportOf(&gortsplib.ClientTransport{}); got != "" {
		t.Errorf("before SETUP: %q", got)
	}
}
