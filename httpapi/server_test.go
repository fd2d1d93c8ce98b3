package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/ingest"
)

// fakeCameras is a fixed set of cameras whose HLS handler echoes the file.
type fakeCameras map[string]camera.Status

func (f fakeCameras) Statuses() []camera.Status {
	var out []camera.Status
	for _, name := range []string{"a", "b"} {
		if st, ok := f[name]; ok {
			out = append(out, st)
		}
	}
	return out
}

func (f fakeCameras) Status(name string) (camera.Status, bool) {
	st, ok := f[name]
	return st, ok
}

func (f fakeCameras) HLS(name string) (http.Handler, bool) {
	if _, ok := f[name]; !ok {
		return nil, false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hls "+name+" "+r.PathValue("file"))
	}), true
}

func (f fakeCameras) SubstreamHLS(name string) (http.Handler, bool) {
	if st, ok := f[name]; !ok || st.Substream == nil {
		return nil, false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hls "+name+" sub "+r.PathValue("file"))
	}), true
}

func testServer(t *testing.T) *httptest.Server {
	cams := fakeCameras{
		"a": {Name: "a", Source: "rtsp://u:xxxxx@cam/a", State: ingest.StateLive, Codec: "H264", Width: 640, Height: 360,
			Substream: &camera.Status{Name: "a/sub", Source: "rtsp://u:xxxxx@cam/a2", State: ingest.StateLive, Width: 320, Height: 180}},
		"b": {Name: "b", Source: "demo", State: ingest.StateOffline, LastError: "EOF"},
	}
	walls := []config.Wall{
		{Name: "front", Cameras: []string{"b", "a"}, Grid: config.Grid{Cols: 3, Rows: 2}},
		{Name: "one", Cameras: []string{"a"}},
	}
	srv := httptest.NewServer(Handler(cams, Options{Walls: walls, CA: []byte("-----BEGIN CERTIFICATE-----\n")}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRoutes(t *testing.T) {
	srv := testServer(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cases := []struct {
		path, wantType, wantBody string
		wantCode                 int
	}{
		{"/", "text/html", "", 200},
		{"/cams/a/", "text/html", "", 200},
		{"/cams/a", "", "", http.StatusMovedPermanently},
		{"/cams/a/index.m3u8", "", "hls a index.m3u8", 200},
		{"/cams/zz/", "", "no such camera", 404},
		{"/cams/zz/index.m3u8", "", "no such camera", 404},
		{"/cams/a/sub/index.m3u8", "", "hls a sub index.m3u8", 200},
		{"/cams/b/sub/index.m3u8", "", "camera has no substream", 404},
		{"/cams/zz/sub/index.m3u8", "", "no such camera", 404},
		{"/walls/front", "text/html", "", 200},
		{"/walls/front/", "", "", http.StatusMovedPermanently},
		{"/walls/zz", "", "no such wall", 404},
		{"/walls/", "", "", 404},
		{"/api/v1/walls", "application/json", `"grid": "3x2"`, 200},
		{"/api/v1/walls/one", "application/json", `"grid": ""`, 200},
		{"/api/v1/walls/zz", "application/json", `"error": "no such wall"`, 404},
		{"/api/v1/cameras/a", "application/json", `"name": "a/sub"`, 200},
		{"/api/v1/cameras", "application/json", `"name": "a"`, 200},
		{"/api/v1/cameras/b", "application/json", `"lastError": "EOF"`, 200},
		{"/api/v1/cameras/zz", "application/json", `"error"`, 404},
		{"/healthz", "text/plain", "ok", 200},
		{"/ca.pem", "application/x-x509-ca-cert", "BEGIN CERTIFICATE", 200},
		{"/nosuch", "", "", 404},
		{"/assets/nosuch.js", "", "", 404},
	}
	for _, c := range cases {
		resp, err := noRedirect.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.wantCode {
			t.Errorf("GET %s: %d, want %d", c.path, resp.StatusCode, c.wantCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.wantType) {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, ct, c.wantType)
		}
		if !strings.Contains(string(body), c.wantBody) {
			t.Errorf("GET %s: body %q lacks %q", c.path, body, c.wantBody)
		}
	}
}

func TestCameraListIsOrderedJSONArray(t *testing.T) {
	srv := testServer(t)
	resp, err := http.Get(srv.URL + "/api/v1/cameras")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["name"] != "a" || list[1]["name"] != "b" {
		t.Fatalf("list = %v", list)
	}
	for _, key := range []string{"name", "state", "codec", "width", "height", "fps", "lastError"} {
		if _, ok := list[0][key]; !ok {
			t.Errorf("camera JSON lacks %q", key)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	// The substream is nested, and null for a camera without one.
	if sub, ok := list[0]["substream"].(map[string]any); !ok || sub["width"] != 320.0 || sub["state"] != "live" {
		t.Errorf("substream of a = %v", list[0]["substream"])
	}
	if sub, ok := list[1]["substream"]; !ok || sub != nil {
		t.Errorf("substream of b = %v, %v; want null", sub, ok)
	}
	// The server's clock, for the pages' latency readout.
	ms, err := strconv.ParseInt(resp.Header.Get("X-Server-Time"), 10, 64)
	if d := time.Since(time.UnixMilli(ms)); err != nil || d < 0 || d > 5*time.Second {
		t.Errorf("X-Server-Time %q: %v", resp.Header.Get("X-Server-Time"), err)
	}
}

func TestWallsJSON(t *testing.T) {
	srv := testServer(t)
	resp, err := http.Get(srv.URL + "/api/v1/walls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []wallJSON
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	want := []wallJSON{{"front", []string{"b", "a"}, "3x2"}, {"one", []string{"a"}, ""}}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("walls = %+v, want %+v", list, want)
	}

	// No walls: an empty list, not null.
	empty := httptest.NewServer(Handler(fakeCameras{}, Options{}))
	defer empty.Close()
	_, body := get(t, empty.URL+"/api/v1/walls")
	if strings.TrimSpace(body) != "[]" {
		t.Errorf("no walls: %q", body)
	}
	// No tls: auto, no certificate to download.
	if resp, _ := get(t, empty.URL+"/ca.pem"); resp.StatusCode != 404 {
		t.Errorf("/ca.pem without a CA: %s", resp.Status)
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
