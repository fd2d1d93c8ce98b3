package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/rtsp2hls/rtsp2hls/config"
)

// reloader reads the config file again and applies it to the running
// server: on SIGHUP, when the file changes on disk, and on the API's
// POST /api/v1/reload. A file that fails validation is logged with its
// line numbers and changes nothing; the running config stays in force.
type reloader struct {
	path  string
	log   *slog.Logger
	apply func(old, cfg *config.Config) error // makes the server match cfg

	mu  sync.Mutex // one reload at a time
	cur *config.Config
	sum [sha256.Size]byte // of the file cur was loaded from
}

func newReloader(path string, cur *config.Config, data []byte, log *slog.Logger, apply func(old, cfg *config.Config) error) *reloader {
	return &reloader{path: path, log: log, apply: apply, cur: cur, sum: sha256.Sum256(data)}
}

// Reload loads the file and applies it. why says what asked for it, for
// the log.
func (r *reloader) Reload(why string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reload(why, nil)
}

// reload does Reload's work; with data it skips a file whose content is
// that of the config in force (a touch, or an editor's save of the same
// text).
func (r *reloader) reload(why string, data []byte) error {
	if data == nil {
		var err error
		if data, err = os.ReadFile(r.path); err != nil {
			r.log.Error("config not reloaded: the running config stays", "why", why, "err", err)
			return err
		}
	}
	sum := sha256.Sum256(data)
	cfg, err := config.Load(r.path)
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			r.log.Error("config not reloaded: the new file has mistakes; the running config stays",
				"why", why, "file", r.path, "problems", len(cerr.Problems))
			for _, p := range cerr.Problems {
				r.log.Error("config problem", "at", cerr.File+":"+itoa(p.Line), "msg", p.Msg)
			}
		} else {
			r.log.Error("config not reloaded: the running config stays", "why", why, "err", config.Redact(err.Error()))
		}
		return err
	}
	for _, what := range restartOnly(r.cur, cfg) {
		r.log.Warn("config change needs a restart to take effect", "key", what)
	}
	if err := r.apply(r.cur, cfg); err != nil {
		r.log.Error("config reloaded with errors", "why", why, "err", config.Redact(err.Error()))
		r.cur, r.sum = cfg, sum
		return err
	}
	r.cur, r.sum = cfg, sum
	r.log.Info("config reloaded", "why", why, "file", r.path, "cameras", len(cfg.Cameras))
	return nil
}

// watch reloads when the file's content changes, checking every interval
// until ctx ends. Polling a single file costs nothing of note and works
// where inotify does not (bind mounts, network file systems, an editor
// that replaces the file).
func (r *reloader) watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastMod time.Time
	var lastSize int64 = -1
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fi, err := os.Stat(r.path)
		if err != nil {
			continue // being replaced; look again next time
		}
		if fi.ModTime().Equal(lastMod) && fi.Size() == lastSize {
			continue
		}
		lastMod, lastSize = fi.ModTime(), fi.Size()
		data, err := os.ReadFile(r.path)
		if err != nil {
			continue
		}
		r.mu.Lock()
		if sha256.Sum256(data) != r.sum {
			r.reload("file changed", data) //nolint:errcheck // logged
		}
		r.mu.Unlock()
	}
}

// restartOnly lists the keys that changed between old and cfg which a
// reload cannot apply: the listeners and what they were set up with.
func restartOnly(old, cfg *config.Config) []string {
	var out []string
	if old.Listen != cfg.Listen {
		out = append(out, "listen")
	}
	if old.TLS != cfg.TLS {
		out = append(out, "tls")
	}
	if old.RedirectListen != cfg.RedirectListen {
		out = append(out, "redirectListen")
	}
	if old.DataDir != cfg.DataDir {
		out = append(out, "dataDir")
	}
	if old.RTSP != cfg.RTSP {
		out = append(out, "rtsp.listen")
	}
	if old.AdminListen != cfg.AdminListen {
		out = append(out, "adminListen")
	}
	if old.Log.Format != cfg.Log.Format {
		out = append(out, "log.format")
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
