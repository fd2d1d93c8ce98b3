// Command rtsp2hls serves IP cameras to browsers as (Low-Latency) HLS.
//
//	rtsp2hls [-config config.yml]
//	rtsp2hls -version
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
	configPath := flag.String("config", "config.yml", "config file")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println("rtsp2hls", version)
		return
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*configPath, log); err != nil {
		log.Error("rtsp2hls stopped", "err", config.Redact(err.Error()))
		os.Exit(1)
	}
}

func run(configPath string, log *slog.Logger) error {
	cfg, err := config.Load(configPath)
	if err != nil {
		return err
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

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
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
