// Package nginxconf runs nginx with the shipped edge configuration,
// deploy/nginx/rtsp2hls.conf, for the edge benchmark (bench/edge) and the
// end-to-end test (e2e/edge_test.go): the file's cache directories, log,
// unix socket, upstream and listen addresses are moved into a temporary
// directory and onto loopback, nothing else is changed, and nginx runs in
// the foreground as the current user. It also reads the edge's log.
package nginxconf

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The strings of the shipped file that Site rewrites, and how many times
// each must be there: a change to the file that moves them makes Site
// fail rather than leave a run measuring something else.
const (
	cacheDir  = "/var/cache/nginx/rtsp2hls" // and /var/cache/nginx/rtsp2hls-reloads
	originSrv = "server 127.0.0.1:8080;"
	listen    = "listen 80;"
	logFile   = "/var/log/nginx/rtsp2hls-edge.log"
	socket    = "/run/nginx-rtsp2hls-reloads.sock"
)

// Site returns the configuration conf (the text of the shipped file) for a
// run in dir, with rtsp2hls at origin and nginx listening at edge
// (host:port).
func Site(conf, dir, origin, edge string) (string, error) {
	if sock := filepath.Join(dir, "tier2.sock"); len(sock) > 100 {
		// sun_path holds 108 bytes.
		return "", fmt.Errorf("%s: too long for a unix socket; use a shorter directory", sock)
	}
	s := conf
	for _, r := range []struct {
		old, new string
		n        int
	}{
		{cacheDir, filepath.Join(dir, "cache"), 2},
		{originSrv, "server " + origin + ";", 1},
		{listen, "listen " + edge + ";", 1},
		{logFile, LogPath(dir), 2},
		{socket, filepath.Join(dir, "tier2.sock"), 2},
	} {
		if n := strings.Count(s, r.old); n != r.n {
			return "", fmt.Errorf("edge configuration: %q appears %d times, want %d", r.old, n, r.n)
		}
		s = strings.ReplaceAll(s, r.old, r.new)
	}
	return s, nil
}

// LogPath is the edge's log in a run's dir.
func LogPath(dir string) string { return filepath.Join(dir, "logs", "edge.log") }

// Main returns the nginx.conf around the site: everything nginx writes is
// under dir, so it runs beside the system's nginx without touching it.
func Main(dir string, workers int) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // else the workers become nobody and cannot write dir
	}
	t := filepath.Join(dir, "tmp")
	return user + fmt.Sprintf(`worker_processes %d;
pid %s;
error_log %s warn;
worker_rlimit_nofile 65536;
events {
    worker_connections 16384;
}
http {
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy;
    fastcgi_temp_path %s/fastcgi;
    uwsgi_temp_path %s/uwsgi;
    scgi_temp_path %s/scgi;
    include %s;
}
`, workers, filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "logs", "error.log"), t, t, t, t, t,
		filepath.Join(dir, "rtsp2hls.conf"))
}

// Nginx is a running nginx (master and workers).
type Nginx struct {
	Dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start writes site and the nginx.conf around it into dir, checks them
// (nginx -t) and starts nginx in the foreground; its output goes to out.
func Start(nginxPath, dir, site string, workers int, out io.Writer) (*Nginx, error) {
	for _, d := range []string{"cache", "tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "rtsp2hls.conf"), []byte(site), 0o644); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(Main(dir, workers)), 0o644); err != nil {
		return nil, err
	}
	args := []string{"-p", dir, "-c", conf}
	if b, err := exec.Command(nginxPath, append(args, "-t")...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("nginx -t: %v\n%s", err, b)
	}
	cmd := exec.Command(nginxPath, append(args, "-g", "daemon off;")...)
	cmd.Stdout, cmd.Stderr = out, out
	// Should the caller be killed (a test's timeout), nginx goes too rather
	// than live on holding the caller's pipes and the port.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	n := &Nginx{Dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(n.done) }() //nolint:errcheck // only its end matters
	return n, nil
}

// Pid is the master process's.
func (n *Nginx) Pid() int { return n.cmd.Process.Pid }

// Stop stops nginx (fast shutdown: SIGTERM to the master, which ends its
// workers), killing the master if it has not ended in 5 s.
func (n *Nginx) Stop() {
	n.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may be gone
	select {
	case <-n.done:
	case <-time.After(5 * time.Second):
		n.cmd.Process.Kill() //nolint:errcheck // last resort
		<-n.done
	}
}

// ErrorLog is nginx's error log so far.
func (n *Nginx) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "logs", "error.log"))
	return string(b)
}

// Line is a line of the edge log (the shipped log formats rtsp2hls_edge and
// rtsp2hls_tier2).
type Line struct {
	Time     float64 // unix seconds, when the request ended
	Server   string  // "edge" (a viewer's request) or "tier2"
	Status   int
	Cache    string // $upstream_cache_status: HIT, MISS, BYPASS, EXPIRED... or "-"
	Sent     int64  // body bytes sent to the client
	URI      string
	Upstream []string // addresses contacted, none if the cache answered
	// UpstreamBytes is what came from the upstreams contacted.
	UpstreamBytes int64
	// RequestTime is how long nginx took over the request, in seconds;
	// UpstreamTime the part of it spent on the upstreams contacted.
	// Their difference is the time spent before the request went on:
	// waiting on a cache lock.
	RequestTime, UpstreamTime float64
}

// OriginRequests is how many of the line's upstream requests went to
// rtsp2hls (not to the second tier): normally 0 or 1.
func (l Line) OriginRequests() int {
	n := 0
	for _, a := range l.Upstream {
		if !strings.HasPrefix(a, "unix:") {
			n++
		}
	}
	return n
}

// Playlist says whether the request was for a playlist.
func (l Line) Playlist() bool {
	p, _, _ := strings.Cut(l.URI, "?")
	return strings.HasSuffix(p, ".m3u8")
}

// Blocking says whether the request was an LL-HLS blocking reload.
func (l Line) Blocking() bool { return l.Playlist() && strings.Contains(l.URI, "_HLS_msn=") }

// ReadLog reads the complete lines of the log at path from offset off and
// returns them with the offset it read to (a partial last line is read
// next time). Lines it cannot parse are skipped.
func ReadLog(path string, off int64) ([]Line, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, off, err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, off, err
	}
	var lines []Line
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		b, err := r.ReadBytes('\n')
		if err != nil {
			break
		}
		off += int64(len(b))
		if l, ok := parseLine(b); ok {
			lines = append(lines, l)
		}
	}
	return lines, off, nil
}

// parseLine parses
//
//	time server status cache sent request_time "uri" "upstream" "upstream_status" "upstream_bytes" "upstream_time"
//
// nginx escapes '"' in variables (\x22), so the quoted fields hold none.
func parseLine(b []byte) (Line, bool) {
	var l Line
	s := string(bytes.TrimRight(b, "\r\n"))
	head, rest, ok := strings.Cut(s, ` "`)
	fs := strings.Fields(head)
	if !ok || len(fs) != 6 {
		return l, false
	}
	var q []string
	for _, p := range strings.Split(`"`+rest, `" "`) {
		q = append(q, strings.Trim(p, `"`))
	}
	if len(q) != 5 {
		return l, false
	}
	var err error
	if l.Time, err = strconv.ParseFloat(fs[0], 64); err != nil {
		return l, false
	}
	l.Server, l.Cache = fs[1], fs[3]
	if l.Status, err = strconv.Atoi(fs[2]); err != nil {
		return l, false
	}
	l.Sent, _ = strconv.ParseInt(fs[4], 10, 64)
	l.RequestTime, _ = strconv.ParseFloat(fs[5], 64)
	l.URI = q[0]
	for _, a := range splitList(q[1]) {
		if a != "-" && a != "" {
			l.Upstream = append(l.Upstream, a)
		}
	}
	for _, v := range splitList(q[3]) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err == nil {
			l.UpstreamBytes += n
		}
	}
	for _, v := range splitList(q[4]) {
		if d, err := strconv.ParseFloat(v, 64); err == nil {
			l.UpstreamTime += d
		}
	}
	return l, true
}

// splitList splits an nginx upstream list: "a, b" (next upstream tried) or
// "a : b" (internal redirect to another upstream group).
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ", ") {
		for _, q := range strings.Split(p, " : ") {
			out = append(out, strings.TrimSpace(q))
		}
	}
	return out
}
