// Command viewers measures how one rtsp2hls serves K LL-HLS viewers of one
// camera. It starts the real binary with a `source: demo` camera on
// loopback (LL-HLS defaults: 1 s segments, 200 ms parts), runs the
// load generator of package loadgen for each K in turn and prints a table:
// part lag behind the first viewer, parts got, errors, and CPU of the
// server (utime+stime from /proc/PID/stat) and of the generator itself.
//
//	go run ./bench/viewers -bin bin/rtsp2hls -k 500,1000,2000 -d 20s
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rtsp2hls/rtsp2hls/bench/loadgen"
)

func main() {
	bin := flag.String("bin", "bin/rtsp2hls", "rtsp2hls binary to start")
	ks := flag.String("k", "500,1000,2000", "viewer counts, one run each")
	dur := flag.Duration("d", 20*time.Second, "length of each run")
	h2c := flag.Bool("h2c", false, "HTTP/2 without TLS instead of HTTP/1.1 (one connection per viewer either way)")
	flag.Parse()

	// Each viewer holds one connection: lift the open-files limit.
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) //nolint:errcheck // best effort
	}

	addr := freeAddr()
	dir, err := os.MkdirTemp("", "viewers")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte("listen: \""+addr+"\"\n"+
		// Every viewer comes from 127.0.0.1: lift the per-client cap.
		"limits: {blockingPerClient: 10000, blockingTotal: 10000}\ncameras:\n  demo1: { source: demo }\n"), 0o644) //nolint:errcheck // checked by the server
	cmd := exec.Command(*bin, "-config", cfg)
	cmd.Stderr = os.Stderr
	// The server gets its own open-files limit from ours (raised above).
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may be gone
		cmd.Wait()                          //nolint:errcheck // we only wait for it to end
	}()
	url := "http://" + addr + "/cams/demo1/video1_stream.m3u8"
	if !waitLive(url, 15*time.Second) {
		log.Fatal("server not live: ", url)
	}

	proto := "HTTP/1.1 keep-alive"
	if *h2c {
		proto = "HTTP/2 (h2c)"
	}
	fmt.Printf("server %s pid %d, %s, one connection per viewer, %v per run (3 s warm-up)\n\n", *bin, cmd.Process.Pid, proto, *dur)
	fmt.Println("| viewers | part lag p50 | p99 | max | parts got (min / avg) | complete viewers | published | errors | requests | server CPU | per 1000 viewers | generator CPU |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, f := range strings.Split(*ks, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k <= 0 {
			log.Fatalf("bad -k %q", f)
		}
		s0, g0, t0 := procCPU(cmd.Process.Pid), selfCPU(), time.Now()
		r := loadgen.Run(context.Background(), loadgen.Config{PlaylistURL: url, Viewers: k, Duration: *dur, Warmup: 3 * time.Second, H2C: *h2c})
		wall := time.Since(t0).Seconds()
		s := (procCPU(cmd.Process.Pid) - s0).Seconds() / wall
		g := (selfCPU() - g0).Seconds() / wall
		fmt.Printf("| %d | %v | %v | %v | %.1f %% / %.1f %% | %d | %d | %d | %d | %.0f %% | %.0f %% | %.0f %% |\n",
			k, r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), r.Max.Round(time.Millisecond),
			100*r.GotMin, 100*r.GotAvg, r.Complete, r.Published, r.Errors, r.Requests,
			100*s, 100*s*1000/float64(k), 100*g)
		time.Sleep(2 * time.Second) // let the last run's connections close
	}
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitLive(url string, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return true
			}
		}
	}
	return false
}

// procCPU is utime+stime of pid, from /proc/PID/stat (clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64) // field 14 of the whole line
	k, _ := strconv.ParseInt(f[12], 10, 64) // field 15
	return time.Duration(u+k) * 10 * time.Millisecond
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // cannot fail for SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
