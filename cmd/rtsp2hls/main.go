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
	if err := run(*configPath); err != nil {
		fmt.Fprintln(os.Stderr, "rtsp2hls stopped:", config.Redact(err.Error()))
		os.Exit(1)
	}
}

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
	var redirectLn net.Listener
	if cfg.RedirectListen != "" {
		if redirectLn, err = net.Listen("tcp", cfg.RedirectListen); err != nil {
			ln.Close()
			return fmt.Errorf("redirectListen: %w", err)
		}
	}

	cams := camera.NewSet(cfg.RTSP.Listen, log)
	defer cams.Close()
	if err := cams.Apply(cfg.Cameras); err != nil {
		return err
	}

	srv := httpapi.NewServer(cfg.Listen, httpapi.Handler(cams, httpapi.Options{Walls: cfg.Walls, CA: caPEM}), tlsConfig, log)
	serveErr := make(chan error, 2)
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
		go func() { serveErr <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { serveErr <- srv.Serve(ln) }()
	}
	log.Info("rtsp2hls listening", "version", version, "addr", ln.Addr().String(), "scheme", scheme,
		"config", configPath, "cameras", len(cfg.Cameras), "walls", len(cfg.Walls))
	var redirect *http.Server
	if redirectLn != nil {
		port := ln.Addr().(*net.TCPAddr).Port
		redirect = httpapi.NewServer(cfg.RedirectListen, httpapi.RedirectHandler(port, caPEM), nil, log)
		go func() { serveErr <- redirect.Serve(redirectLn) }()
		log.Info("redirecting plain HTTP to HTTPS", "addr", redirectLn.Addr().String())
	}

	reload := newReloader(configPath, cfg, data, log, func(old, cfg *config.Config) error {
		level.Set(parseLevel(cfg.Log.Level))
		return cams.Apply(cfg.Cameras)
	})
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
	servers := []*http.Server{srv}
	if redirect != nil {
		servers = append(servers, redirect)
	}
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
