/*
 * rtsp2hls player, shared by the wall (/) and the camera page (/cams/{name}/).
 * Plain JS, no build step: this file is served as is from the binary.
 *
 * A CameraPlayer plays one camera's HLS in one <video> and keeps it playing
 * on its own: cameras drop, muxers restart (new file names), servers are
 * upgraded, and a wall is expected to come back without anyone pressing F5.
 */
(function () {
  'use strict';

  var POLL_MS = 1000;            // camera state refresh
  var FETCH_TIMEOUT_MS = 5000;   // an API call slower than this counts as failed
  var TICK_MS = 500;             // watchdog resolution
  var STALL_MS = 4000;           // playing video frozen this long: recreate
  var FIRST_FRAME_MS = 10000;    // grace for the first frame after (re)creation
  var BACKOFF_MIN_MS = 500;      // retry delays grow 0.5 s, 1 s, ... up to 2 s: the server
                                 // holds a playlist request until media is there, so
                                 // quick retries cost little and catch a camera's return
  var BACKOFF_MAX_MS = 2000;
  var MEDIA_RECOVER_WINDOW_MS = 5000; // a 2nd fatal media error this soon: recreate
  var RESUME_BEHIND_S = 5;       // on resume, further behind live than this: jump to live

  var registry = window.rtsp2hls = window.rtsp2hls || {};
  registry.players = registry.players || {};

  function now() { return performance.now(); }

  function camPath(name) { return '/cams/' + encodeURIComponent(name) + '/'; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function log(name, msg) {
    // warn, not error: recovering is normal operation, and the e2e check
    // treats console errors as failures.
    console.warn('[rtsp2hls] ' + name + ': ' + msg);
  }

  function hlsJSUsable() {
    return typeof window.Hls === 'function' && window.Hls.isSupported();
  }

  // ---------------------------------------------------------------------
  // CameraPlayer

  function CameraPlayer(video, name, onChange) {
    this.video = video;
    this.name = name;
    this.url = camPath(name) + 'index.m3u8';
    this.onChange = onChange || function () {};
    this.hls = null;
    this.mode = '';          // 'hls.js' | 'native' | 'none'
    this.message = '';       // why this browser cannot play at all
    this.reason = '';        // why the last retry happened (debugging)
    this.failures = 0;       // consecutive failed attempts: drives the backoff
    this.retryTimer = 0;
    this.lastMediaRecover = -Infinity;
    this.lastTime = -1;
    this.lastProgress = 0;
    this.hasFrame = false;
    this.lastEndSN = null;   // last live playlist seen, to notice a restart
    this.lastEndURL = '';
    this.lastInitURL = '';
    this.destroyed = false;

    // Muted + playsinline is what lets browsers (iPhone Safari included)
    // autoplay without a gesture. The attributes matter for the first load,
    // the properties for later ones.
    video.muted = true;
    video.defaultMuted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.setAttribute('muted', '');
    video.setAttribute('playsinline', '');
    video.setAttribute('data-camera', name);

    var self = this;
    this.listeners = {
      timeupdate: function () { self.onTimeUpdate(); },
      error: function () {
        // hls.js reports through its own ERROR event; only native playback
        // needs the element's error.
        if (self.mode === 'native' && video.error) self.retry('video error ' + video.error.code);
      },
      play: function () { self.onResume(); }
    };
    for (var ev in this.listeners) video.addEventListener(ev, this.listeners[ev]);
    this.onVisibility = function () {
      if (!document.hidden) self.onResume();
    };
    document.addEventListener('visibilitychange', this.onVisibility);
    this.watchdog = setInterval(function () { self.tick(); }, TICK_MS);
    this.start();
  }

  // An hls.js load policy that retries server errors (5xx) without end,
  // quickly at first and then once a second; 4xx still fail (see onHlsError).
  function retryForever(firstByteMs, loadMs) {
    return {
      default: {
        maxTimeToFirstByteMs: firstByteMs,
        maxLoadTimeMs: loadMs,
        timeoutRetry: { maxNumRetry: 2, retryDelayMs: 0, maxRetryDelayMs: 0 },
        errorRetry: { maxNumRetry: Number.MAX_SAFE_INTEGER, retryDelayMs: 250, maxRetryDelayMs: 1000 }
      }
    };
  }

  CameraPlayer.prototype.start = function () {
    if (this.destroyed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    this.hasFrame = false;
    this.lastTime = -1;
    this.lastProgress = now();
    this.lastEndSN = null;
    this.lastEndURL = '';
    this.lastInitURL = '';
    var video = this.video;
    if (hlsJSUsable()) {
      this.mode = 'hls.js';
      this.startHlsJS();
    } else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      // iPhone Safari before MSE/ManagedMediaSource: native HLS, which does
      // LL-HLS by itself and starts at the live edge.
      this.mode = 'native';
      video.src = this.url;
      this.play();
    } else {
      this.mode = 'none';
      this.message = typeof window.Hls === 'function'
        ? 'This browser cannot play HLS video.'
        : 'This browser cannot play HLS video (hls.js is missing from this build).';
    }
    this.onChange();
  };

  CameraPlayer.prototype.startHlsJS = function () {
    var Hls = window.Hls;
    var self = this;
    var hls = new Hls({
      // LL-HLS: load parts, use blocking playlist reloads, and hold back
      // from the live edge by the server's PART-HOLD-BACK (hls.js's default
      // when lowLatencyMode is on; a fixed liveSyncDuration would fight it).
      lowLatencyMode: true,
      // A wall runs many players at once: keep little already-played video.
      backBufferLength: 10,
      // When behind the live edge, catch up by playing up to 20% faster
      // rather than seeking (which shows as a jump).
      maxLiveSyncPlaybackRate: 1.2,
      // Duration Infinity makes native controls look like live ones (no
      // scrubber that grows and invites seeking).
      liveDurationInfinity: true,
      // While a camera is away the server keeps its stream and answers
      // requests for new media with 503 after holding them a few seconds.
      // Keep asking (hls.js would give up after 2 retries): the request
      // pending when the camera returns gets the first new part, which is
      // the quickest way back to a moving picture.
      playlistLoadPolicy: retryForever(10000, 20000),
      fragLoadPolicy: retryForever(10000, 20000)
    });
    this.hls = hls;
    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      if (hls === self.hls) self.play();
    });
    hls.on(Hls.Events.ERROR, function (event, data) {
      if (hls === self.hls) self.onHlsError(data);
    });
    hls.on(Hls.Events.LEVEL_LOADED, function (event, data) {
      if (hls === self.hls) self.onLevelLoaded(data.details);
    });
    hls.attachMedia(this.video);
    // No startPosition: hls.js starts a live stream at its live sync point,
    // which is what every (re)start should do.
    hls.loadSource(this.url);
  };

  // A server-side muxer restart (camera reconnect, resolution change)
  // starts a new stream under new file names, and its playlist's media
  // sequence numbers start over. hls.js keeps waiting for the old sequence
  // to continue, so notice the restart here and start over at once, rather
  // than play out the old buffer and then wait for the watchdog.
  CameraPlayer.prototype.onLevelLoaded = function (details) {
    if (!details || !details.live || !details.fragments || !details.fragments.length) return;
    var frags = details.fragments;
    var last = frags[frags.length - 1];
    var init = last && last.initSegment ? last.initSegment.url : '';
    var restarted = false;
    if (this.lastEndSN != null) {
      // Sequence numbers went back, or the init segment (fMP4) changed, or
      // the segment we saw last now has another name (MPEG-TS, where the
      // numbers may happen to line up).
      var same = frags[this.lastEndSN - details.startSN];
      restarted = details.endSN < this.lastEndSN ||
        (this.lastInitURL && init && init !== this.lastInitURL) ||
        !!(same && same.url && this.lastEndURL && same.url !== this.lastEndURL);
    }
    this.lastEndSN = details.endSN;
    this.lastEndURL = last ? last.url : '';
    this.lastInitURL = init;
    if (restarted) this.retry('stream restarted on the server', true);
  };

  CameraPlayer.prototype.onHlsError = function (data) {
    var Hls = window.Hls;
    // A 404 on our own playlists or media means the server-side muxer was
    // restarted (every file name changes) or we fell out of the live window:
    // hls.js would keep retrying names that will never come back, so start
    // over at once instead of waiting for its retries or the watchdog.
    if (data.type === Hls.ErrorTypes.NETWORK_ERROR && data.response && data.response.code === 404) {
      this.retry('404 on ' + data.details, true);
      return;
    }
    // Other non-fatal errors are retried by hls.js itself (with its own
    // policies); a fatal one means this instance has given up.
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      var t = now();
      if (t - this.lastMediaRecover > MEDIA_RECOVER_WINDOW_MS) {
        // Decoder/MSE trouble: hls.js can usually rebuild the SourceBuffers
        // without reloading anything.
        this.lastMediaRecover = t;
        log(this.name, 'media error (' + data.details + '), recovering');
        this.hls.recoverMediaError();
        return;
      }
      this.retry('repeated media error (' + data.details + ')');
      return;
    }
    // NETWORK_ERROR (camera offline: 503; muxer restarted: 404 on old names)
    // and anything else: start over from the multivariant playlist.
    this.retry(data.type + ' (' + data.details + ')');
  };

  CameraPlayer.prototype.play = function () {
    var p = this.video.play();
    // A rejected play() (autoplay refused, or interrupted by a reload) is
    // not an error worth a console line; the watchdog notices if nothing plays.
    if (p && p.catch) p.catch(function () {});
  };

  CameraPlayer.prototype.onTimeUpdate = function () {
    var v = this.video;
    var ct = v.currentTime;
    if (ct === this.lastTime) return;
    this.lastTime = ct;
    this.lastProgress = now();
    // timeupdate also fires on the initial seek to the live point; only an
    // advancing clock with a decoded picture counts as "playing".
    if (!this.hasFrame && !v.paused && v.readyState >= 2 /* HAVE_CURRENT_DATA */) {
      this.hasFrame = true;
      this.failures = 0;
      this.reason = '';
      this.onChange();
    }
  };

  // The watchdog: hls.js does not notice everything. After a server-side
  // muxer restart, for instance, it may wait forever on parts that will
  // never exist. A clock that stops while the video should play is the one
  // symptom every such failure shares.
  CameraPlayer.prototype.tick = function () {
    if (this.destroyed || this.retryTimer || this.mode === 'none') return;
    var t = now();
    var v = this.video;
    if (document.hidden) {
      // Browsers throttle or suspend hidden pages' video; judge only what
      // someone can see.
      this.lastProgress = t;
      return;
    }
    if (v.paused && this.hasFrame) {
      if (v.controls) {
        // The camera page has controls: a pause is the user's.
        this.lastProgress = t;
        return;
      }
      // The wall has no pause button: whatever paused it, resume.
      this.play();
    }
    if (this.hasFrame && this.cameraDown) {
      // The server says the camera is away: hls.js is waiting for its
      // return with a request pending, which beats starting over.
      this.lastProgress = t;
      return;
    }
    var limit = this.hasFrame ? STALL_MS : FIRST_FRAME_MS;
    if (t - this.lastProgress > limit) {
      this.retry(this.hasFrame ? 'playback stalled' : 'no picture after ' + (limit / 1000) + ' s');
    }
  };

  // Back from a pause or a hidden tab: show now, not the past.
  CameraPlayer.prototype.onResume = function () {
    this.lastProgress = now();
    var hls = this.hls;
    var v = this.video;
    // Only once it has played: at startup hls.js picks the start itself.
    if (this.hasFrame && hls && hls.liveSyncPosition != null && isFinite(hls.liveSyncPosition) &&
        v.currentTime < hls.liveSyncPosition - RESUME_BEHIND_S) {
      v.currentTime = hls.liveSyncPosition;
    }
  };

  // Tear the player down and build a new one after a backoff. quick: we
  // know the server has a new stream ready (it restarted it), so the first
  // attempt goes at once; should that fail too, the usual backoff follows.
  CameraPlayer.prototype.retry = function (reason, quick) {
    if (this.destroyed) return;
    clearTimeout(this.retryTimer); // one pending restart at a time
    this.teardown();
    var delay = Math.min(BACKOFF_MIN_MS * (this.failures + (quick ? 0 : 1)), BACKOFF_MAX_MS);
    this.failures++;
    this.reason = reason;
    log(this.name, reason + '; restarting in ' + delay + ' ms');
    var self = this;
    this.retryTimer = setTimeout(function () { self.start(); }, delay);
    this.onChange();
  };

  // The server says the camera is (back) up: skip the rest of the backoff.
  CameraPlayer.prototype.kick = function () {
    if (this.retryTimer && !this.destroyed) {
      this.failures = 0;
      this.start();
    }
  };

  CameraPlayer.prototype.teardown = function () {
    this.hasFrame = false;
    if (this.hls) {
      var hls = this.hls;
      this.hls = null;
      hls.destroy(); // also detaches the media element
    }
    if (this.mode === 'native') {
      this.video.removeAttribute('src');
      this.video.load();
    }
  };

  CameraPlayer.prototype.destroy = function () {
    this.destroyed = true;
    clearInterval(this.watchdog);
    clearTimeout(this.retryTimer);
    this.teardown();
    for (var ev in this.listeners) this.video.removeEventListener(ev, this.listeners[ev]);
    document.removeEventListener('visibilitychange', this.onVisibility);
  };

  // ---------------------------------------------------------------------
  // Tile: a video with the camera's name, state badge and overlay.

  function Tile(name, opts) {
    this.name = name;
    this.cam = null;        // last object from the API, null until known
    this.unknown = false;   // the API answered 404 for this name
    this.stale = false;     // the API is unreachable: cam is old news
    this.root = el(opts.link ? 'a' : 'div', 'tile');
    if (opts.link) {
      this.root.href = camPath(name);
      this.root.title = 'Open ' + name;
    }
    this.video = el('video');
    this.video.setAttribute('data-camera', name);
    if (opts.controls) this.video.controls = true;
    var label = el('div', 'label');
    if (opts.showName) label.appendChild(el('span', 'name', name));
    this.badge = el('span', 'badge unknown', '…');
    if (opts.badge) this.badge = opts.badge; else label.appendChild(this.badge);
    this.overlay = el('div', 'overlay');
    this.overlayTitle = el('div', 'title');
    this.overlayDetail = el('div', 'detail');
    this.overlay.appendChild(this.overlayTitle);
    this.overlay.appendChild(this.overlayDetail);
    this.root.appendChild(this.video);
    this.root.appendChild(this.overlay);
    this.root.appendChild(label);
    var self = this;
    this.player = new CameraPlayer(this.video, name, function () { self.render(); });
    registry.players[name] = this.player;
    this.render();
  }

  Tile.prototype.update = function (cam) {
    var wasUp = this.cam && this.cam.state === 'live';
    this.cam = cam;
    this.unknown = false;
    this.stale = false;
    this.player.cameraDown = cam.state !== 'live';
    if (cam.state === 'live' && !wasUp) this.player.kick();
    this.render();
  };

  Tile.prototype.setUnknown = function () {
    this.cam = null;
    this.unknown = true;
    this.stale = false;
    this.render();
  };

  Tile.prototype.setStale = function () {
    this.stale = true;
    this.render();
  };

  Tile.prototype.render = function () {
    var state = this.unknown ? 'unknown' : (this.cam && this.cam.state) || '';
    var known = state === 'live' || state === 'connecting' || state === 'offline';
    // A state we cannot refresh is not shown as if it were current.
    this.badge.className = 'badge ' + (known && !this.stale ? state : 'unknown');
    this.badge.textContent = this.stale ? '?' : known ? state : (this.unknown ? 'unknown' : '…');
    this.badge.title = this.stale ? 'No answer from the server' : '';

    var p = this.player;
    if (!p) return; // called from inside the CameraPlayer constructor
    var title = '', detail = '', cls = '';
    if (this.unknown) {
      title = 'Unknown camera';
      detail = 'The server has no camera named "' + this.name + '".';
    } else if (state === 'offline') {
      title = 'Camera offline';
      detail = (this.cam && this.cam.lastError) || '';
      cls = 'offline';
    } else if (p.mode === 'none') {
      title = p.message;
    } else if (!p.hasFrame) {
      cls = 'soft';
      title = state === 'connecting' ? 'Connecting to camera…'
        : p.failures > 0 ? 'Reconnecting…' : 'Loading…';
    }
    this.overlay.hidden = !title;
    this.overlay.className = 'overlay' + (cls ? ' ' + cls : '');
    // textContent, never innerHTML: lastError carries text from cameras
    // and the network.
    this.overlayTitle.textContent = title;
    this.overlayDetail.textContent = detail;
    this.overlayDetail.hidden = !detail;
  };

  Tile.prototype.destroy = function () {
    this.player.destroy();
    if (registry.players[this.name] === this.player) delete registry.players[this.name];
    this.root.remove();
  };

  // ---------------------------------------------------------------------
  // API polling

  function getJSON(url) {
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS) : 0;
    return fetch(url, { cache: 'no-store', signal: ctl ? ctl.signal : undefined })
      .then(function (r) {
        if (r.status === 404) return { notFound: true };
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json().then(function (body) { return { body: body }; });
      })
      .finally(function () { clearTimeout(timer); });
  }

  // poll runs fn every POLL_MS, one call at a time (a slow server never
  // gets a pile of overlapping requests), and at once when the page shows.
  function poll(fn) {
    var timer = 0;
    var running = false;
    function run() {
      clearTimeout(timer);
      if (running) return;
      running = true;
      Promise.resolve().then(fn).catch(function () {}).then(function () {
        running = false;
        timer = setTimeout(run, POLL_MS);
      });
    }
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) run();
    });
    run();
  }

  function setConn(ok) {
    var c = document.getElementById('conn');
    if (c) c.hidden = ok;
  }

  // ---------------------------------------------------------------------
  // The wall

  function initWall() {
    var wall = document.getElementById('wall');
    var empty = document.getElementById('empty');
    var summary = document.getElementById('summary');
    var tiles = new Map();
    registry.tiles = tiles;

    function layout() {
      var n = tiles.size;
      // cols = ceil(sqrt(n)): 1 → 1x1, 2-4 → 2x2, 5-9 → 3x3, 10-16 → 4x4.
      var cols = Math.max(1, Math.ceil(Math.sqrt(n)));
      var rows = Math.max(1, Math.ceil(n / cols));
      wall.style.setProperty('--cols', cols);
      wall.style.setProperty('--rows', rows);
      wall.style.setProperty('--cols-narrow', Math.min(cols, 2));
    }

    function apply(cams) {
      if (!Array.isArray(cams)) cams = [];
      var order = [];
      var seen = new Set();
      cams.forEach(function (cam) {
        if (!cam || typeof cam.name !== 'string' || !cam.name || seen.has(cam.name)) return;
        seen.add(cam.name);
        var tile = tiles.get(cam.name);
        if (!tile) {
          tile = new Tile(cam.name, { link: true, showName: true });
          tiles.set(cam.name, tile);
        }
        tile.update(cam);
        order.push(tile);
      });
      tiles.forEach(function (tile, name) {
        if (!seen.has(name)) {
          tile.destroy();
          tiles.delete(name);
        }
      });
      // Keep the API's order, moving nodes only when needed: moving a
      // <video> can interrupt its playback.
      order.forEach(function (tile, i) {
        if (wall.children[i] !== tile.root) wall.insertBefore(tile.root, wall.children[i] || null);
      });
      layout();
      empty.hidden = tiles.size > 0;

      var counts = { live: 0, connecting: 0, offline: 0 };
      order.forEach(function (t) { if (t.cam && counts[t.cam.state] != null) counts[t.cam.state]++; });
      var parts = [tiles.size + (tiles.size === 1 ? ' camera' : ' cameras')];
      ['live', 'connecting', 'offline'].forEach(function (s) {
        if (counts[s]) parts.push(counts[s] + ' ' + s);
      });
      summary.textContent = parts.join(' · ');
    }

    poll(function () {
      return getJSON('/api/v1/cameras').then(function (res) {
        setConn(true);
        apply(res.body || []);
      }, function (err) {
        setConn(false);
        tiles.forEach(function (tile) { tile.setStale(); });
        throw err;
      });
    });
  }

  // ---------------------------------------------------------------------
  // The camera page

  function cameraNameFromPath() {
    var m = /^\/cams\/([^/]+)/.exec(location.pathname);
    if (!m) return '';
    try { return decodeURIComponent(m[1]); } catch (e) { return m[1]; }
  }

  function ago(iso) {
    var t = Date.parse(iso);
    if (!isFinite(t) || t <= 0) return '';
    var s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 90) return s + ' s ago';
    if (s < 5400) return Math.round(s / 60) + ' min ago';
    if (s < 172800) return Math.round(s / 3600) + ' h ago';
    return new Date(t).toLocaleString();
  }

  function initCamera() {
    var name = cameraNameFromPath();
    var stage = document.getElementById('stage');
    var info = document.getElementById('info');
    var errorLine = document.getElementById('error');
    document.getElementById('name').textContent = name || '(no camera)';
    document.title = (name || 'Camera') + ' · rtsp2hls';
    if (!name) return;

    var tile = new Tile(name, { controls: true, badge: document.getElementById('badge') });
    stage.appendChild(tile.root);
    registry.tile = tile;

    function showInfo(cam) {
      var parts = [];
      if (cam.codec) parts.push(cam.codec);
      if (cam.width && cam.height) parts.push(cam.width + '×' + cam.height);
      if (cam.fps) parts.push((Math.round(cam.fps * 100) / 100) + ' fps');
      if (cam.audio) parts.push('audio ' + cam.audio);
      if (cam.reconnects) parts.push(cam.reconnects + (cam.reconnects === 1 ? ' reconnect' : ' reconnects'));
      if (cam.state !== 'live' && cam.lastFrame) {
        var a = ago(cam.lastFrame);
        if (a) parts.push('last frame ' + a);
      }
      if (cam.source) parts.push(cam.source);
      info.textContent = parts.join(' · ');
      errorLine.textContent = cam.lastError ? 'Last error: ' + cam.lastError : '';
      errorLine.hidden = !cam.lastError;
    }

    poll(function () {
      return getJSON('/api/v1/cameras/' + encodeURIComponent(name)).then(function (res) {
        setConn(true);
        if (res.notFound) {
          tile.setUnknown();
          info.textContent = '';
          errorLine.hidden = true;
          return;
        }
        if (res.body && typeof res.body === 'object') {
          tile.update(res.body);
          showInfo(res.body);
        }
      }, function (err) {
        setConn(false);
        tile.setStale();
        throw err;
      });
    });
  }

  registry.CameraPlayer = CameraPlayer;
  var page = document.body && document.body.getAttribute('data-page');
  if (page === 'wall') initWall();
  else if (page === 'camera') initCamera();
})();
