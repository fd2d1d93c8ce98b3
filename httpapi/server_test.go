package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rtsp2hls/rtsp2hls/camera"
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

func testServer(t *testing.T) *httptest.Server {
	cams := fakeCameras{
		"a": {Name: "a", Source: "rtsp://u:xxxxx@cam/a", State: ingest.StateLive, Codec: "H264", Width: 640, Height: 360},
		"b": {Name: "b", Source: "demo", State: ingest.StateOffline, LastError: "EOF"},
	}
	srv := httptest.NewServer(Handler(cams, nil))
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
		{"/api/v1/cameras", "application/json", `"name": "a"`, 200},
		{"/api/v1/cameras/b", "application/json", `"lastError": "EOF"`, 200},
		{"/api/v1/cameras/zz", "application/json", `"error"`, 404},
		{"/healthz", "text/plain", "ok", 200},
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
}
