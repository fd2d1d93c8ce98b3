// Command rtsp2hls serves IP cameras to browsers as (Low-Latency) HLS.
//
//	rtsp2hls [-config config.yml]       serve
//	rtsp2hls -check [-config FILE]      validate the config and exit (non-zero on mistakes)
//	rtsp2hls hash-password              read a password on stdin, print its bcrypt hash
//	rtsp2hls -version
//
// SIGHUP, a change of the config file on disk, or POST /api/v1/reload
// reload the config without a restart.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rtsp2hls/rtsp2hls/camera"
	"github.com/rtsp2hls/rtsp2hls/config"
	"github.com/rtsp2hls/rtsp2hls/httpapi"
	"github.com/rtsp2hls/rtsp2hls/player"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// shutdownGrace bounds a clean shutdown: the contract is exit within 5 s.
const shutdownGrace = 3 * time.Second

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hash-password" {
		if err := hashPassword(os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "rtsp2hls hash-password:", err)
			os.Exit(1)
		}
		return
	}
	configPath := flag.String("config", "config.yml", "config file")
	check := flag.Bool("check", false, "validate the config file and exit: 0 when it is valid, 1 with its mistakes")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "rtsp2hls: unexpected argument %q (the only command is hash-password)\n", flag.Arg(0))
		os.Exit(2)
	}
	switch {
	case *showVersion:
		fmt.Println("rtsp2hls", version)
		return
	case *check:
		os.Exit(checkConfig(*configPath))
	}
	// The heap is mostly the cameras' LL-HLS media (~4.8 MB live per 1080p
	// camera) and GOGC=100 lets it grow to twice that between collections:
	// GOGC=50 cuts RSS per camera from 10 to 7.5 MB for ~0.02 % of a core
	// more (BENCHMARKS.md, "1080p cameras"). GOGC in the environment wins.
	//
	// GOGC sets the next collection at the live heap plus half of it; with
	// few cameras and many viewers the live heap is small and every
	// request's garbage (net/http's) fills that half again and again: at
	// 2,000 viewers of one camera the GC took ~10 % of the server's CPU.
	// gcBallast adds 32 MB to the live heap that is never written, so never
	// in RSS (fresh pages from the OS, already zero) and never scanned (no
	// pointers): the GC waits for 16 MB more garbage, at most 0.3 MB a
	// camera at 50 cameras, nothing worth counting at 200.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
		gcBallast = make([]byte, gcBallastSize)
	}
	if err := run(*configPath); err != nil {
		fmt.Fprintln(os.Stderr, "rtsp2hls stopped:", config.Redact(err.Error()))
		os.Exit(1)
	}
	runtime.KeepAlive(gcBallast)
}

// gcBallast: see main.
var gcBallast []byte

const gcBallastSize = 32 << 20

// checkConfig is -check: like nginx -t, it validates the file and says so.
func checkConfig(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, config.Redact(err.Error()))
		fmt.Fprintf(os.Stderr, "rtsp2hls: %s is not valid\n", path)
		return 1
	}
	fmt.Printf("rtsp2hls: %s is valid: %d cameras, %d walls, %d users\n", path, len(cfg.Cameras), len(cfg.Walls), len(cfg.Users))
	return 0
}

func run(configPath string) error {
	data, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
	}
	var level slog.LevelVar
	log := newLogger(os.Stderr, cfg.Log, &level)
	if n, err := raiseOpenFiles(); err != nil {
		log.Warn("could not raise the open files limit", "err", err)
	} else {
		log.Info("open files limit", "max", n)
	}
	if !player.HasHLSJS() {
		log.Warn("hls.js is not embedded (build with `make build`); only browsers with native HLS will play")
	}

	var tlsConfig *tls.Config
	var caPEM []byte // tls: auto's authority, offered for download
	if cfg.TLS.Enabled() {
		if tlsConfig, caPEM, err = httpapi.TLSConfig(cfg.TLS, cfg.DataDir, log); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	var redirectLn, adminLn net.Listener
	if cfg.RedirectListen != "" {
		if redirectLn, err = net.Listen("tcp", cfg.RedirectListen); err != nil {
			ln.Close()
			return fmt.Errorf("redirectListen: %w", err)
		}
	}
	if cfg.AdminListen != "" {
		if adminLn, err = net.Listen("tcp", cfg.AdminListen); err != nil {
			ln.Close()
			if redirectLn != nil {
				redirectLn.Close()
			}
			return fmt.Errorf("adminListen: %w", err)
		}
	}

	cams := camera.NewSet(cfg.RTSP.Listen, log)
	defer cams.Close()
	if err := cams.Apply(cfg.Cameras); err != nil {
		return err
	}

	started := time.Now()
	metrics := httpapi.NewMetrics(cams)
	limiter := httpapi.NewBlockingLimiter(cfg.Limits)
	var reload *reloader
	// options are the HTTP side's settings from a config, swapped in by a
	// reload.
	options := func(cfg *config.Config) httpapi.Options {
		return httpapi.Options{
			Walls: cfg.Walls, CA: caPEM,
			Users: cfg.Users, TokenSecret: cfg.TokenSecret, AdminListen: cfg.AdminListen,
			AllowOrigins: cfg.AllowOrigins, FrameAncestors: cfg.FrameAncestors,
			Reload:  func() error { return reload.Reload("API") },
			Metrics: metrics.Handler(),
			Version: version, ConfigPath: configPath, Started: started,
		}
	}
	// The reloader exists before any request can reach POST
	// /api/v1/reload; what it updates is made just below, before serving.
	var routes, admin *httpapi.Routes
	reload = newReloader(configPath, cfg, data, log, func(old, cfg *config.Config) error {
		level.Set(parseLevel(cfg.Log.Level))
		limiter.SetLimits(cfg.Limits)
		err := cams.Apply(cfg.Cameras)
		o := options(cfg)
		if old.AdminListen != cfg.AdminListen {
			// The listeners stay as they were started until a restart.
			o.AdminListen = old.AdminListen
		}
		routes.Update(o)
		if admin != nil {
			admin.Update(o)
		}
		return err
	})
	routes = httpapi.Handler(cams, options(cfg))
	if adminLn != nil {
		admin = httpapi.AdminHandler(cams, options(cfg))
	}
	srv := httpapi.NewServer(cfg.Listen, httpapi.Wrap(routes, metrics, limiter, log, cfg.Log.Requests), tlsConfig, log)
	serveErr := make(chan error, 3)
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		go func() { serveErr <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { serveErr <- srv.Serve(ln) }()
	}
	log.Info("rtsp2hls listening", "version", version, "addr", ln.Addr().String(), "scheme", scheme,
		"config", configPath, "cameras", len(cfg.Cameras), "walls", len(cfg.Walls), "users", len(cfg.Users))
	servers := []*http.Server{srv}
	if redirectLn != nil {
		port := ln.Addr().(*net.TCPAddr).Port
		redirect := httpapi.NewServer(cfg.RedirectListen, httpapi.RedirectHandler(port, caPEM), nil, log)
		go func() { serveErr <- redirect.Serve(redirectLn) }()
		servers = append(servers, redirect)
		log.Info("redirecting plain HTTP to HTTPS", "addr", redirectLn.Addr().String())
	}
	if adminLn != nil {
		// Plain HTTP: the admin listener is meant for a private address
		// (loopback, a management network), and it needs no login there.
		adminSrv := httpapi.NewServer(cfg.AdminListen, httpapi.Wrap(admin, metrics, nil, log, cfg.Log.Requests), nil, log)
		go func() { serveErr <- adminSrv.Serve(adminLn) }()
		servers = append(servers, adminSrv)
		log.Info("admin routes (API writes, /metrics) on their own listener", "addr", adminLn.Addr().String())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go reload.watch(ctx, time.Second)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
wait:
	for {
		select {
		case err := <-serveErr:
			return err
		case <-hup:
			reload.Reload("SIGHUP") //nolint:errcheck // logged
		case <-ctx.Done():
			break wait
		}
	}
	log.Info("shutting down")

	// Cameras go first: closing their muxers releases every blocked LL-HLS
	// request, so Shutdown does not wait on them.
	cams.Close()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, s := range servers {
		if err := s.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		s.Close()
	}
	for range servers {
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	return nil
}
