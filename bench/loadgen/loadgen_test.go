package loadgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestParsePlaylist(t *testing.T) {
	pl := []byte(`#EXTM3U
#EXT-X-MEDIA-SEQUENCE:5
#EXT-X-PART:DURATION=0.2,URI="a_part1.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.2,URI="a_part2.mp4"
#EXTINF:1.0,
a_seg5.mp4
#EXT-X-PART:DURATION=0.2,URI="a_part3.mp4",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a_part4.mp4"
`)
	msn, part, uris := parsePlaylist(pl, nil)
	if msn != 6 || part != 1 || len(uris) != 3 || string(uris[2]) != "a_part3.mp4" {
		t.Fatalf("msn %d part %d uris %q", msn, part, uris)
	}
	// A delta update counts the skipped segments.
	skip := []byte("#EXT-X-MEDIA-SEQUENCE:5\r\n#EXT-X-SKIP:SKIPPED-SEGMENTS=3\r\n#EXTINF:1.0,\r\ns.mp4\r\n#EXT-X-PART:DURATION=0.2,URI=\"p.mp4\"\r\n")
	if msn, part, _ := parsePlaylist(skip, nil); msn != 9 || part != 1 {
		t.Fatalf("delta update: msn %d part %d", msn, part)
	}
}

// The hand-made HTTP/1.1 client reads what net/http's server sends:
// bodies with a length, chunked ones, gzip, errors; and keeps one
// connection across requests unless told to close it.
func TestRawClient(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plain":
			w.Write([]byte("hello"))
		case "/big": // more than one read of the connection's buffer
			w.Header().Set("Content-Length", "200000")
			w.Write(bytes.Repeat([]byte("x"), 200000))
		case "/gzip":
			if r.Header.Get("Accept-Encoding") != "gzip" {
				t.Errorf("no Accept-Encoding: gzip")
			}
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write([]byte("#EXTM3U\n"))
			zw.Close()
		case "/chunked":
			w.Write([]byte("part one,"))
			w.(http.Flusher).Flush()
			w.Write([]byte("part two"))
		case "/missing":
			http.Error(w, "no such file", http.StatusNotFound)
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := newRawClient(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	ctx := context.Background()
	var body bytes.Buffer
	var zr gzipReader
	for _, tc := range []struct {
		path, want string
		keep       bool // read the body
		err        error
	}{
		{"/plain", "hello", true, nil},
		{"/big", "", false, nil},
		{"/gzip", "#EXTM3U\n", true, nil},
		{"/chunked", "part one,part two", true, nil},
		{"/chunked", "", false, nil},
		{"/missing", "", true, errStatus},
		{"/gzip", "#EXTM3U\n", true, nil},
	} {
		body.Reset()
		var b *bytes.Buffer
		if tc.keep {
			b = &body
		}
		if err := c.get(ctx, tc.path, b, &zr); err != tc.err {
			t.Fatalf("%s: %v, want %v", tc.path, err, tc.err)
		}
		if tc.err == nil && body.String() != tc.want {
			t.Fatalf("%s: body %q, want %q", tc.path, body.String(), tc.want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 7 requests, want 1", n)
	}
	if err := c.get(ctx, "/close", &body, &zr); err != nil || body.String() != "bye" {
		t.Fatalf("/close: %v %q", err, body.String())
	}
	if err := c.get(ctx, "/plain", &body, &zr); err != nil || body.String() != "hello" {
		t.Fatalf("after close: %v %q", err, body.String())
	}
	if n := conns.Load(); n != 2 {
		t.Fatalf("%d connections, want a second after Connection: close", n)
	}
}
