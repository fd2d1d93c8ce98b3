/*
 * rtsp2hls player, shared by the walls (/, /walls/{name}) and the camera
 * page (/cams/{name}/). Plain JS, no build step: this file is served as is
 * from the binary.
 *
 * A CameraPlayer plays one camera's HLS in one <video> and keeps it playing
 * on its own: cameras drop, muxers restart (new file names), servers are
 * upgraded, and a wall is expected to come back without anyone pressing F5.
 * A Tile shows one camera (name, state, latency) around its players. The
 * wall lays tiles out in a grid, enlarges one on click or Enter (switching
 * from the camera's substream to its main stream), and stops tiles nobody
 * can see: off-screen, covered by the enlarged one, or in a hidden tab.
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
  var RESUME_RESTART_MS = 30000; // stopped longer than this: start afresh rather than resume
  var LATENCY_MS = 500;          // latency readout refresh
  var CLOCK_SAMPLE_MS = 30000;   // keep a server clock sample this long unless a better one comes
  var START_SETTLE_MS = 1500;    // a stall this soon after the first frame is start-up, not network
  var JUMP_BEHIND_S = 0.5;       // further behind the target than this: jump, not catch up
  var JUMP_MARGIN_S = 0.1;       // ... to where at least this much is buffered past the landing
  var CATCHUP_RATE = 1.15;       // playback rate while catching up with the live edge
  var CATCHUP_START_S = 0.08;    // catch up when this much further behind live than the target
  var CATCHUP_STOP_S = 0.02;     // ... until within this of it
  var CATCHUP_MIN_AHEAD_S = 0.15; // ... and never with less than this left buffered ahead
  var FIRST_STILL_MS = 5000;     // first.js's still stays at most this long without a moving picture

  var registry = window.rtsp2hls = window.rtsp2hls || {};
  registry.players = registry.players || {};         // grid (or only) player per camera
  registry.mainPlayers = registry.mainPlayers || {}; // main stream of an enlarged tile with a substream

  function now() { return performance.now(); }

  function camPath(name) { return '/cams/' + encodeURIComponent(name) + '/'; }

  // A view link (/cams/NAME/?token=...) opens one camera without a login:
  // every request the page makes carries the token, as the server wants.
  var TOKEN = new URLSearchParams(location.search).get('token') || '';
  registry.token = TOKEN;

  // withToken adds the view link's token to a URL of this server (never
  // to another's), unless it has one.
  function withToken(url) {
    if (!TOKEN) return url;
    var u;
    try { u = new URL(url, location.href); } catch (e) { return url; }
    if (u.origin !== location.origin || u.searchParams.has('token')) return url;
    u.searchParams.set('token', TOKEN);
    return u.href;
  }

  // The server's clock minus ours, in ms. The program date time of the
  // stream is stamped by the server, so latency is measured on its clock;
  // a viewer's clock that is a few seconds off would otherwise show up as
  // seconds of latency. Learnt from the API's X-Server-Time header, keeping
  // the sample with the shortest round trip (the least uncertain).
  var clock = registry.clock = { offset: 0, rtt: Infinity, at: -Infinity };

  function clockSample(serverMs, sentAt, receivedAt) {
    if (!isFinite(serverMs) || serverMs <= 0) return;
    var rtt = receivedAt - sentAt;
    var t = now();
    if (rtt <= clock.rtt || t - clock.at > CLOCK_SAMPLE_MS) {
      clock.offset = serverMs - (sentAt + receivedAt) / 2;
      clock.rtt = rtt;
      clock.at = t;
    }
  }

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

  // opts.stream: 'main' (default) or 'sub', the camera's substream.
  function CameraPlayer(video, name, onChange, opts) {
    opts = opts || {};
    this.video = video;
    this.name = name;
    this.stream = opts.stream === 'sub' ? 'sub' : 'main';
    this.url = withToken(camPath(name) + (this.stream === 'sub' ? 'sub/' : '') + 'index.m3u8');
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
    this.suspended = false;  // stopped because nobody can see it (setActive)
    this.suspends = 0;       // times suspended, for tests and debugging
    this.suspendedAt = 0;
    this.wasPlaying = false; // playing when suspended
    this.pendingStart = false; // a (re)start is due once active again
    this.resumeToLive = false; // jump to the live edge on the next playlist
    if (opts.active === false) this.suspended = true; // created out of sight: load nothing yet

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
    video.setAttribute('data-stream', this.stream);
    // For tests and debugging: which player drives this element.
    video.rtsp2hlsPlayer = this;

    var self = this;
    this.listeners = {
      timeupdate: function () { self.onTimeUpdate(); },
      error: function () {
        // hls.js reports through its own ERROR event; only native playback
        // needs the element's error.
        if (self.mode === 'native' && video.error) self.retry('video error ' + video.error.code);
      },
      play: function () { self.onResume(); },
      seeking: function () { self.onSeeking(); }
    };
    for (var ev in this.listeners) video.addEventListener(ev, this.listeners[ev]);
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
    if (this.suspended) {
      // Nobody would see it: start when the tile shows again.
      this.pendingStart = true;
      return;
    }
    this.pendingStart = false;
    this.resumeToLive = false;
    this.hasFrame = false;
    this.partHoldBack = 0;        // the playlist's PART-HOLD-BACK, s
    this.ownSeek = false;         // the next 'seeking' is the player's own (seekTo)
    this.userPosition = false;    // a viewer moved the playhead: keepLive stays out
    this.firstFrameAt = 0;
    this.aheadMin = Infinity;     // keepLive's window of buffer ahead
    this.aheadPrevMin = Infinity;
    this.aheadSince = now();
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
      // No interstitials here: skip hls.js's schedule of them.
      enableInterstitialPlayback: false,
      // A wall runs many players at once: keep little already-played video.
      backBufferLength: 10,
      // Catching up with the live edge is keepLive's (hls.js only speeds
      // up with more than 1 s buffered ahead, which LL-HLS never has);
      // a rate of 1 keeps hls.js from resetting the one keepLive sets.
      maxLiveSyncPlaybackRate: 1,
      // A stall moves hls.js's target further from live (by 1 s at once by
      // default, as much as a whole segment of 1 s): step by a fifth of that.
      liveSyncOnStallIncrease: 0.2,
      // Duration Infinity makes native controls look like live ones (no
      // scrubber that grows and invites seeking).
      liveDurationInfinity: true,
      // While a camera is away the server keeps its stream and answers
      // requests for new media with 503 after holding them a few seconds.
      // Keep asking (hls.js would give up after 2 retries): the request
      // pending when the camera returns gets the first new part, which is
      // the quickest way back to a moving picture.
      playlistLoadPolicy: retryForever(10000, 20000),
      fragLoadPolicy: retryForever(10000, 20000),
      // With a view link, each request carries its token (the server puts
      // it in the playlists' URIs too; this covers any other request).
      xhrSetup: TOKEN ? function (xhr, url) { xhr.open('GET', withToken(url), true); } : undefined
    });
    this.hls = hls;
    patchFragmentLookup(hls);
    hls.on(Hls.Events.MANIFEST_PARSED, function () {
      if (hls === self.hls) self.play();
    });
    hls.on(Hls.Events.ERROR, function (event, data) {
      if (hls !== self.hls) return;
      if (data.details === Hls.ErrorDetails.BUFFER_STALLED_ERROR && self.partHoldBack > 0 &&
          (!self.hasFrame || now() - self.firstFrameAt < START_SETTLE_MS)) {
        // hls.js moves its target further from live after each stall; one
        // while it settles at its start position says nothing of the
        // network: keep the playlist's PART-HOLD-BACK.
        hls.targetLatency = self.partHoldBack;
      }
      self.onHlsError(data);
    });
    hls.on(Hls.Events.LEVEL_LOADED, function (event, data) {
      if (hls !== self.hls) return;
      if (data.details && data.details.partHoldBack > 0) self.partHoldBack = data.details.partHoldBack;
      self.onLevelLoaded(data.details);
    });
    hls.on(Hls.Events.LEVEL_UPDATED, function () {
      if (hls === self.hls && self.resumeToLive) self.jumpToLive();
    });
    hls.attachMedia(this.video);
    // No startPosition: hls.js starts a live stream at its live sync point,
    // which is what every (re)start should do.
    hls.loadSource(this.url);
  };

  // patchFragmentLookup works around a freeze of hls.js 1.7.4 close to
  // the live edge. hls.js finds the next fragment to load at the end of
  // the buffered range. Chromium keeps media time in whole microseconds and
  // 1/30 s is not one, so the buffer of a 30 fps stream can end 1 us before
  // the segment does; hls.js allows for that only while it still tracks the
  // previous fragment, which a back-buffer flush can make it drop. It then
  // finds the segment it has already loaded, over and over, and loads
  // nothing until the next segment is complete: the picture froze for
  // 1.5-2 s every 10-60 s at 0.25 s from live (e2e TestBrowserLowLatencyNoStall).
  // Looking 2 us further on lands on the next fragment, as intended.
  var LOOKUP_SLACK_S = 0.000002;
  function patchFragmentLookup(hls) {
    var proto = hls.streamController;
    while (proto && !Object.prototype.hasOwnProperty.call(proto, 'getFragmentAtPosition')) proto = Object.getPrototypeOf(proto);
    if (!proto) {
      log('player', 'hls.js has no getFragmentAtPosition: fragment lookup left unpatched');
      return;
    }
    if (proto.getFragmentAtPosition.rtsp2hlsPatched) return;
    var lookup = proto.getFragmentAtPosition;
    proto.getFragmentAtPosition = function (bufferEnd, end, details) {
      return lookup.call(this, bufferEnd + LOOKUP_SLACK_S, end, details);
    };
    proto.getFragmentAtPosition.rtsp2hlsPatched = true;
  }

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
    this.keepLive();
    this.lastTime = ct;
    this.lastProgress = now();
    // timeupdate also fires on the initial seek to the live point; only an
    // advancing clock with a decoded picture counts as "playing".
    if (!this.hasFrame && !v.paused && v.readyState >= 2 /* HAVE_CURRENT_DATA */) {
      this.hasFrame = true;
      this.firstFrameAt = now();
      this.failures = 0;
      this.reason = '';
      this.onChange();
    }
  };

  // keepLive plays a little faster while the picture is further behind the
  // live edge than hls.js's target (PART-HOLD-BACK of the playlist), as long
  // as there is buffered video to play from. A player starts behind its
  // target by the time it took to start (measured: 0.15-0.3 s) and hls.js
  // alone would stay there: its own catch-up waits for more than 1 s of
  // buffer ahead, which a low-latency stream never has.
  CameraPlayer.prototype.keepLive = function () {
    var hls = this.hls;
    var v = this.video;
    if (!hls || v.paused || !this.hasFrame) return;
    var latency = hls.latency;
    var target = hls.targetLatency;
    var rate = 1;
    if (this.userPosition) {
      // The viewer moved the playhead (camera page controls): leave it
      // there, until they bring it back to live themselves.
      // (hls.latency is a timeupdate old, from before the seek: measure
      // against where hls.js would play now.)
      var live = hls.liveSyncPosition;
      if (live != null && isFinite(live) && live - v.currentTime < CATCHUP_START_S) this.userPosition = false;
      if (v.playbackRate > 1) v.playbackRate = 1;
      return;
    }
    // The least buffered ahead over the last 1-2 s: what is left just
    // before a part arrives. Catching up spends it, so only while it is
    // above a margin for a part that comes late.
    var ahead = bufferedAhead(v);
    var t = now();
    if (t - this.aheadSince > 1000) {
      this.aheadPrevMin = this.aheadMin;
      this.aheadMin = Infinity;
      this.aheadSince = t;
    }
    this.aheadMin = Math.min(this.aheadMin, ahead);
    var aheadMin = Math.min(this.aheadMin, this.aheadPrevMin);
    if (latency > 0 && target > 0 && latency - target > JUMP_BEHIND_S) {
      // Far behind: the server starts players at the latest keyframe
      // (segmenter/start.go) so that the first frame shows at once. Jump
      // to hls.js's place behind the live edge as soon as it is buffered:
      // Chromium decodes from the keyframe to there in a few ms.
      var sync = hls.liveSyncPosition;
      if (sync != null && isFinite(sync) && sync > v.currentTime &&
          bufferedEnd(v, v.currentTime) >= sync + JUMP_MARGIN_S) {
        this.seekTo(sync);
        return;
      }
    }
    if (latency > 0 && target > 0 && aheadMin > CATCHUP_MIN_AHEAD_S) {
      var behind = latency - target;
      // Hysteresis: start past CATCHUP_START_S, go on down to CATCHUP_STOP_S.
      if (behind > CATCHUP_START_S || (v.playbackRate > 1 && behind > CATCHUP_STOP_S)) rate = CATCHUP_RATE;
    }
    if (v.playbackRate !== rate) v.playbackRate = rate;
  };

  // seekTo moves the playhead for the player's own reasons (to live), as
  // opposed to a viewer's seek (onSeeking).
  CameraPlayer.prototype.seekTo = function (t) {
    this.ownSeek = true;
    this.video.currentTime = t;
  };

  // onSeeking tells a viewer's seek (native controls, camera page) from the
  // player's own: after one, keepLive leaves the playhead where it is.
  CameraPlayer.prototype.onSeeking = function () {
    if (this.ownSeek) {
      this.ownSeek = false;
      return;
    }
    if (this.hasFrame && this.video.controls) this.userPosition = true;
  };

  // bufferedEnd is the end of the buffered range that holds t (or starts
  // within 0.1 s after it), t when there is none.
  function bufferedEnd(v, t) {
    var b = v.buffered;
    for (var i = 0; i < b.length; i++) {
      if (b.start(i) <= t + 0.1 && t < b.end(i)) return b.end(i);
    }
    return t;
  }

  // bufferedAhead is how many seconds of video are buffered past the playhead.
  function bufferedAhead(v) {
    return bufferedEnd(v, v.currentTime) - v.currentTime;
  }

  // The watchdog: hls.js does not notice everything. After a server-side
  // muxer restart, for instance, it may wait forever on parts that will
  // never exist. A clock that stops while the video should play is the one
  // symptom every such failure shares.
  CameraPlayer.prototype.tick = function () {
    if (this.destroyed || this.retryTimer || this.mode === 'none') return;
    var t = now();
    var v = this.video;
    if (this.suspended) {
      this.lastProgress = t;
      return;
    }
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

  // setActive(false) stops loading and pauses, keeping the last picture;
  // setActive(true) resumes at the live edge. The wall calls it for tiles
  // that go off-screen or under an enlarged tile, and for a hidden tab: a
  // wall of 16 cameras in a background tab should cost nothing.
  CameraPlayer.prototype.setActive = function (active) {
    if (this.destroyed || active === !this.suspended) return;
    var v = this.video;
    if (!active) {
      this.suspended = true;
      this.suspends++;
      this.suspendedAt = now();
      this.wasPlaying = !v.paused;
      this.resumeToLive = false;
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = 0;
        this.pendingStart = true;
      }
      if (this.hls) this.hls.stopLoad();
      v.pause();
      this.onChange();
      return;
    }
    this.suspended = false;
    this.lastProgress = now();
    if (this.pendingStart || (this.mode === 'hls.js' && !this.hls)) {
      this.start();
      return;
    }
    if (this.hls && (!this.hasFrame || now() - this.suspendedAt > RESUME_RESTART_MS)) {
      // Long gone (or never started playing): the stream may have moved on
      // to new file names; a fresh start lands at the live edge for sure.
      this.teardown();
      this.start();
      return;
    }
    if (this.hls) {
      // Reload the playlist, then jump to its live edge (jumpToLive).
      this.resumeToLive = true;
      this.hls.startLoad(-1);
    } else if (this.mode === 'native') {
      var s = v.seekable;
      if (s && s.length) v.currentTime = s.end(s.length - 1);
    }
    if (this.wasPlaying || !v.controls) this.play();
    this.onChange();
  };

  // After a resume, the first fresh playlist says where live is now.
  CameraPlayer.prototype.jumpToLive = function () {
    var hls = this.hls;
    var live = hls && hls.liveSyncPosition;
    if (live == null || !isFinite(live)) return;
    this.resumeToLive = false;
    if (this.video.currentTime < live - 0.5) this.seekTo(live);
    if (this.wasPlaying || !this.video.controls) this.play();
  };

  // How far the picture is behind live, in seconds: now (on the server's
  // clock) minus the program date time of the frame on screen, which the
  // server stamps with the time it received the frame. null when unknown.
  CameraPlayer.prototype.latency = function () {
    if (!this.hasFrame || this.suspended) return null;
    var at = null;
    if (this.hls) {
      var d = this.hls.playingDate;
      if (d) at = d.getTime();
    } else if (this.mode === 'native' && typeof this.video.getStartDate === 'function') {
      // Safari maps the playlist's first program date time to time 0.
      var start = this.video.getStartDate().getTime();
      if (isFinite(start) && start > 0) at = start + this.video.currentTime * 1000;
    }
    if (at == null || !isFinite(at)) return null;
    return (Date.now() + clock.offset - at) / 1000;
  };

  // Back from a pause or a hidden tab: show now, not the past.
  CameraPlayer.prototype.onResume = function () {
    this.lastProgress = now();
    var hls = this.hls;
    var v = this.video;
    // Only once it has played: at startup hls.js picks the start itself.
    if (this.hasFrame && hls && hls.liveSyncPosition != null && isFinite(hls.liveSyncPosition) &&
        v.currentTime < hls.liveSyncPosition - RESUME_BEHIND_S) {
      this.seekTo(hls.liveSyncPosition);
    }
  };

  // Tear the player down and build a new one after a backoff. quick: we
  // know the server has a new stream ready (it restarted it), so the first
  // attempt goes at once; should that fail too, the usual backoff follows.
  CameraPlayer.prototype.retry = function (reason, quick) {
    if (this.destroyed) return;
    clearTimeout(this.retryTimer); // one pending restart at a time
    this.teardown();
    if (this.suspended) {
      this.pendingStart = true;
      this.reason = reason;
      this.onChange();
      return;
    }
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
    if (this.retryTimer && !this.destroyed && !this.suspended) {
      this.failures = 0;
      this.start();
    }
  };

  CameraPlayer.prototype.teardown = function () {
    this.hasFrame = false;
    this.resumeToLive = false;
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
    if (this.video.rtsp2hlsPlayer === this) this.video.rtsp2hlsPlayer = null;
  };

  // ---------------------------------------------------------------------
  // Tile: a camera's videos with its name, state badge, latency readout
  // and an overlay saying why there is no picture.
  //
  // opts.interactive: a wall tile (focusable, click or Enter to enlarge);
  // opts.controls: native video controls (camera page); opts.badge: an
  // element to use as the badge instead of one in the label; opts.stream:
  // 'main' always plays the main stream, otherwise the grid plays the
  // substream when the camera has one and the main stream when enlarged.

  function Tile(name, opts) {
    this.name = name;
    this.opts = opts;
    this.cam = null;        // last object from the API, null until known
    this.unknown = false;   // the API has no camera of this name
    this.stale = false;     // the API is unreachable: cam is old news
    this.onScreen = true;   // set by the wall's IntersectionObserver
    this.covered = false;   // another tile is enlarged over this one
    this.enlarged = false;
    this.player = null;     // plays the grid stream in this.video
    this.mainPlayer = null; // the main stream while enlarged, if the grid plays the substream
    this.mainVideo = null;

    var root = this.root = el('div', 'tile');
    root.setAttribute('data-tile', name);
    if (opts.interactive) {
      root.tabIndex = 0;
      root.setAttribute('role', 'button');
    }
    this.video = el('video');
    this.video.setAttribute('data-camera', name);
    if (opts.controls) this.video.controls = true;

    var label = el('div', 'label');
    // The camera page has the name in its header.
    if (opts.interactive) label.appendChild(el('span', 'name', name));
    label.appendChild(el('span', 'spacer'));
    this.resEl = el('span', 'res');
    this.resEl.hidden = true;
    label.appendChild(this.resEl);
    this.latencyEl = el('span', 'latency');
    this.latencyEl.hidden = true;
    this.latencyEl.title = 'How far the picture is behind live';
    label.appendChild(this.latencyEl);
    this.badge = opts.badge || el('span', 'badge unknown', '…');
    if (!opts.badge) label.appendChild(this.badge);
    if (opts.interactive) {
      var open = el('a', 'open', 'Camera page');
      open.href = camPath(name);
      label.appendChild(open);
      this.closeEl = el('button', 'close', '\u00d7');
      this.closeEl.type = 'button';
      this.closeEl.title = 'Back to all cameras (Esc)';
      this.closeEl.setAttribute('aria-label', 'Back to all cameras');
      label.appendChild(this.closeEl);
    }
    this.overlay = el('div', 'overlay');
    this.overlayTitle = el('div', 'title');
    this.overlayDetail = el('div', 'detail');
    this.overlay.appendChild(this.overlayTitle);
    this.overlay.appendChild(this.overlayDetail);
    root.appendChild(this.video);
    // The camera page's first picture (first.js): a still of the latest
    // keyframe over the player's video until that has a picture of its own.
    this.first = null;
    this.firstTimer = 0;
    if (opts.first && !opts.first.done) {
      var self = this;
      this.first = opts.first;
      root.appendChild(this.first.video);
      this.first.onShown = function () { self.render(); };
      this.firstTimer = setTimeout(function () { self.dropFirst(); }, FIRST_STILL_MS);
    }
    root.appendChild(this.overlay);
    root.appendChild(label);
    if (opts.stream === 'main') this.ensurePlayer();
    this.render();
  }

  // The stream the grid plays: the substream when there is one.
  Tile.prototype.gridStream = function () {
    return this.opts.stream !== 'main' && this.cam && this.cam.substream ? 'sub' : 'main';
  };

  // ensurePlayer makes (or remakes, when the camera gained or lost its
  // substream) the player of the grid stream.
  Tile.prototype.ensurePlayer = function () {
    var want = this.gridStream();
    if (this.player && this.player.stream === want) return;
    if (this.player) this.player.destroy();
    var self = this;
    this.player = new CameraPlayer(this.video, this.name, function () { self.changed(); },
      { stream: want, active: this.visible() && !this.mainShowing() });
    registry.players[this.name] = this.player;
    if (this.enlarged) this.setEnlarged(true); // a main player, if now needed
  };

  Tile.prototype.visible = function () {
    return this.onScreen && !this.covered && !document.hidden;
  };

  Tile.prototype.mainShowing = function () {
    return !!(this.mainPlayer && this.mainPlayer.hasFrame);
  };

  // applyActive runs the players someone can see and stops the others.
  // The grid player keeps playing under the enlarged main stream until
  // that has a picture, so the enlarged tile is never black.
  Tile.prototype.applyActive = function () {
    var visible = this.visible();
    var main = this.mainShowing();
    if (this.player) this.player.setActive(visible && !main);
    if (this.mainPlayer) this.mainPlayer.setActive(visible);
    if (this.mainVideo) this.mainVideo.classList.toggle('ready', main);
  };

  Tile.prototype.changed = function () {
    this.applyActive();
    this.render();
  };

  Tile.prototype.setEnlarged = function (on) {
    this.enlarged = on;
    this.root.classList.toggle('enlarged', on);
    var needMain = on && this.player && this.player.stream === 'sub';
    if (needMain && !this.mainPlayer) {
      var self = this;
      this.mainVideo = el('video', 'main');
      this.root.insertBefore(this.mainVideo, this.overlay);
      this.mainPlayer = new CameraPlayer(this.mainVideo, this.name, function () { self.changed(); },
        { stream: 'main', active: this.visible() });
      registry.mainPlayers[this.name] = this.mainPlayer;
    } else if (!needMain && this.mainPlayer) {
      this.mainPlayer.destroy();
      if (registry.mainPlayers[this.name] === this.mainPlayer) delete registry.mainPlayers[this.name];
      this.mainVideo.remove();
      this.mainPlayer = null;
      this.mainVideo = null;
    }
    this.changed();
  };

  // shown returns the player whose picture is on screen and the status of
  // its stream.
  Tile.prototype.shown = function () {
    var p = this.mainShowing() ? this.mainPlayer : (this.player || this.mainPlayer);
    var st = this.cam;
    if (p && p.stream === 'sub' && this.cam && this.cam.substream) st = this.cam.substream;
    return { player: p, status: st };
  };

  function isLive(st) { return !!(st && st.state === 'live'); }

  Tile.prototype.update = function (cam) {
    var old = this.cam;
    this.cam = cam;
    this.unknown = false;
    this.stale = false;
    this.ensurePlayer();
    // Tell each player whether its stream is up, and skip the rest of a
    // retry's backoff when it has just come (back) up.
    var self = this;
    [this.player, this.mainPlayer].forEach(function (p) {
      if (!p) return;
      var sub = p.stream === 'sub';
      var up = isLive(sub ? cam.substream : cam);
      p.cameraDown = !up;
      if (up && !isLive(old && (sub ? old.substream : old))) p.kick();
    });
    self.render();
  };

  Tile.prototype.setUnknown = function () {
    this.cam = null;
    this.unknown = true;
    this.stale = false;
    if (this.player) {
      // A camera gone from the server: stop asking for its files.
      this.player.destroy();
      this.player = null;
      if (registry.players[this.name]) delete registry.players[this.name];
      if (this.enlarged) this.setEnlarged(true);
    }
    this.render();
  };

  Tile.prototype.setStale = function () {
    this.stale = true;
    this.render();
  };

  // dropFirst removes first.js's still (the player has a picture, has
  // failed, or the still has been there long enough).
  Tile.prototype.dropFirst = function () {
    if (!this.first) return;
    clearTimeout(this.firstTimer);
    this.first.drop();
    this.first = null;
    this.render();
  };

  Tile.prototype.render = function () {
    var shown = this.shown();
    var st = shown.status;
    var p = shown.player;
    var state = this.unknown ? 'unknown' : (st && st.state) || '';
    if (this.first && (this.first.done || this.unknown || state === 'offline' ||
        (p && (p.hasFrame || p.failures > 0 || p.mode !== 'hls.js')))) {
      this.dropFirst();
      return;
    }
    var known = state === 'live' || state === 'connecting' || state === 'offline';
    // A state we cannot refresh is not shown as if it were current.
    this.badge.className = 'badge ' + (known && !this.stale ? state : 'unknown');
    this.badge.textContent = this.stale ? '?' : known ? state : (this.unknown ? 'unknown' : '…');
    var err = state === 'offline' && st && st.lastError ? st.lastError : '';
    this.badge.title = this.stale ? 'No answer from the server' : err;
    if (this.opts.interactive) {
      // The label lets clicks through, so the hover text is the tile's.
      this.root.title = this.stale ? this.name + ': no answer from the server'
        : err ? this.name + ' offline: ' + err : this.name;
      this.root.setAttribute('aria-label', this.name + ', ' + (this.stale ? 'state unknown' : known ? state : 'loading') +
        (this.enlarged ? '' : '. Press Enter to enlarge'));
    }
    var showRes = this.enlarged && st && st.width && st.height;
    this.resEl.hidden = !showRes;
    this.resEl.textContent = showRes ? st.width + '\u00d7' + st.height : '';

    if (!p && !this.unknown) {
      this.overlay.hidden = true;
      return; // no player yet: the camera's record has not come
    }
    var title = '', detail = '', cls = '';
    if (this.unknown) {
      title = 'Unknown camera';
      detail = 'The server has no camera named "' + this.name + '".';
    } else if (state === 'offline') {
      title = 'Camera offline';
      detail = err;
      cls = 'offline';
    } else if (p.mode === 'none') {
      title = p.message;
    } else if (!p.hasFrame && !p.suspended && !(this.first && this.first.shown)) {
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

  // showLatency refreshes the latency readout ("0.9 s").
  Tile.prototype.showLatency = function () {
    var p = this.shown().player;
    var l = p ? p.latency() : null;
    var show = l != null && l > -1 && l < 600;
    this.latencyEl.hidden = !show;
    if (!show) return;
    this.latencyEl.textContent = (l < 10 ? Math.max(0, l).toFixed(1) : Math.round(l)) + ' s';
    this.latencyEl.classList.toggle('slow', l >= 3);
  };

  Tile.prototype.destroy = function () {
    this.dropFirst();
    this.setEnlarged(false);
    if (this.player) {
      this.player.destroy();
      if (registry.players[this.name] === this.player) delete registry.players[this.name];
    }
    this.root.remove();
  };

  // ---------------------------------------------------------------------
  // Visibility: tiles off-screen or in a hidden tab stop loading.

  function watchVisibility(tilesOf) {
    var io = null;
    if (typeof IntersectionObserver === 'function') {
      // A margin, so that a tile scrolled into view is already loading.
      io = new IntersectionObserver(function (entries) {
        entries.forEach(function (e) {
          var t = e.target.rtsp2hlsTile;
          if (!t) return;
          t.onScreen = e.isIntersecting;
          t.applyActive();
        });
      }, { rootMargin: '50px' });
    }
    document.addEventListener('visibilitychange', function () {
      tilesOf().forEach(function (t) { t.applyActive(); });
    });
    return {
      // observe before the tile has players: until the observer's first
      // report it counts as out of sight, so a tile below the fold never
      // loads anything.
      observe: function (t) {
        t.root.rtsp2hlsTile = t;
        if (!io) return;
        t.onScreen = false;
        io.observe(t.root);
      },
      unobserve: function (t) {
        if (io) io.unobserve(t.root);
      }
    };
  }

  function startLatencyReadout(tilesOf) {
    setInterval(function () {
      if (document.hidden) return;
      tilesOf().forEach(function (t) { t.showLatency(); });
    }, LATENCY_MS);
  }

  // ---------------------------------------------------------------------
  // API polling

  function getJSON(url) {
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = ctl ? setTimeout(function () { ctl.abort(); }, FETCH_TIMEOUT_MS) : 0;
    var sent = Date.now();
    return fetch(withToken(url), { cache: 'no-store', signal: ctl ? ctl.signal : undefined })
      .then(function (r) {
        clockSample(Number(r.headers.get('X-Server-Time')), sent, Date.now());
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

  function toggleFullscreen() {
    var d = document;
    var root = d.documentElement;
    var p;
    if (d.fullscreenElement || d.webkitFullscreenElement) {
      p = (d.exitFullscreen || d.webkitExitFullscreen).call(d);
    } else if (root.requestFullscreen || root.webkitRequestFullscreen) {
      p = (root.requestFullscreen || root.webkitRequestFullscreen).call(root);
    }
    if (p && p.catch) p.catch(function () {});
  }

  // A key press meant for the page, not for a form field or a shortcut.
  function plainKey(e) {
    var t = e.target;
    return !(e.ctrlKey || e.metaKey || e.altKey) &&
      !(t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)));
  }

  // ---------------------------------------------------------------------
  // The wall

  var NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

  // parseGrid reads "3x3" (columns x rows), as in the config.
  function parseGrid(s) {
    var m = /^([0-9]{1,2})x([0-9]{1,2})$/.exec(s || '');
    if (!m) return null;
    var g = { cols: +m[1], rows: +m[2] };
    return g.cols >= 1 && g.rows >= 1 && g.cols <= 10 && g.rows <= 10 ? g : null;
  }

  // What the URL asks for: /walls/{name}, ?cams=a,b,c and ?grid=3x3.
  function wallSpec() {
    var spec = { wall: '', cams: null, grid: null };
    var m = /^\/walls\/([^/]+)\/?$/.exec(location.pathname);
    if (m) {
      try { spec.wall = decodeURIComponent(m[1]); } catch (e) { spec.wall = m[1]; }
    }
    var q = new URLSearchParams(location.search);
    if (q.has('cams')) {
      var seen = {};
      spec.cams = q.get('cams').split(',').map(function (s) { return s.trim(); }).filter(function (s) {
        if (!s || seen[s]) return false;
        seen[s] = true;
        return true;
      });
    }
    spec.grid = parseGrid(q.get('grid'));
    return spec;
  }

  function initWall() {
    var wall = document.getElementById('wall');
    var empty = document.getElementById('empty');
    var summary = document.getElementById('summary');
    var heading = document.getElementById('title');
    var nav = document.getElementById('walls');
    var tiles = new Map();
    var order = [];           // tiles in grid order
    var enlarged = null;      // the enlarged tile
    var spec = wallSpec();
    var wallDef = null;       // the named wall, once loaded
    var wallMissing = false;
    registry.tiles = tiles;
    registry.spec = spec;

    function allTiles() { return order; }
    var vis = watchVisibility(allTiles);
    startLatencyReadout(allTiles);

    if (spec.wall) {
      heading.textContent = spec.wall;
      document.title = spec.wall + ' · rtsp2hls';
    }

    function grid() {
      return spec.grid || (wallDef && parseGrid(wallDef.grid)) || null;
    }

    function layout() {
      var n = order.length;
      var g = grid();
      // Sized to the cameras: cols = ceil(sqrt(n)), so 1 → 1x1, 2 → 2x1,
      // 3-4 → 2x2, 5-6 → 3x2, 7-9 → 3x3, 10-16 → 4x4, 17-25 → 5x5.
      var cols = g ? g.cols : Math.max(1, Math.ceil(Math.sqrt(n)));
      var rows = g ? g.rows : Math.max(1, Math.ceil(n / cols));
      wall.style.setProperty('--cols', cols);
      wall.style.setProperty('--rows', rows);
      wall.style.setProperty('--cols-narrow', Math.min(cols, 2));
      wall.setAttribute('data-grid', cols + 'x' + rows);
    }

    function enlarge(tile) {
      if (enlarged === tile) return;
      var prev = enlarged;
      enlarged = tile;
      document.body.classList.add('has-enlarged');
      order.forEach(function (t) { t.covered = t !== tile; });
      if (prev) prev.setEnlarged(false);
      tile.setEnlarged(true);
      order.forEach(function (t) { t.applyActive(); });
      tile.root.focus();
      // The browser's Back (a phone's back gesture) returns to the grid.
      var st = { rtsp2hlsEnlarged: tile.name };
      if (prev) history.replaceState(st, '');
      else history.pushState(st, '');
    }

    // shrink returns to the grid; fromHistory: Back did it, or another
    // tile takes over, so the history entry is not to be popped here.
    function shrink(fromHistory) {
      var tile = enlarged;
      if (!tile) return;
      enlarged = null;
      document.body.classList.remove('has-enlarged');
      tile.setEnlarged(false);
      order.forEach(function (t) {
        t.covered = false;
        t.applyActive();
      });
      if (tile.root.isConnected) tile.root.focus();
      if (!fromHistory && history.state && history.state.rtsp2hlsEnlarged) history.back();
    }
    registry.enlarge = function (name) { var t = tiles.get(name); if (t) enlarge(t); };
    registry.shrink = function () { shrink(false); };

    window.addEventListener('popstate', function () {
      if (enlarged && !(history.state && history.state.rtsp2hlsEnlarged === enlarged.name)) shrink(true);
    });

    wall.addEventListener('click', function (e) {
      var root = e.target.closest && e.target.closest('.tile');
      var tile = root && root.rtsp2hlsTile;
      if (!tile) return;
      if (e.target.closest('.close')) {
        shrink(false);
      } else if (!e.target.closest('a') && !tile.enlarged) {
        enlarge(tile);
      }
    });

    document.addEventListener('keydown', function (e) {
      if (!plainKey(e)) return;
      var focused = document.activeElement && document.activeElement.rtsp2hlsTile;
      var i;
      switch (e.key) {
        case 'Enter':
        case ' ':
          if (focused && !focused.enlarged && e.target === focused.root) {
            e.preventDefault();
            enlarge(focused);
          }
          break;
        case 'Escape':
          if (enlarged) {
            e.preventDefault();
            shrink(false);
          }
          break;
        case 'f':
        case 'F':
          e.preventDefault();
          toggleFullscreen();
          break;
        case 'ArrowLeft':
        case 'ArrowRight':
        case 'ArrowUp':
        case 'ArrowDown':
          // In the grid, move between tiles; enlarged, go to the previous
          // or next camera.
          var cur = enlarged || focused;
          if (!cur || !order.length) return;
          i = order.indexOf(cur);
          var cols = Number(wall.style.getPropertyValue('--cols')) || 1;
          var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -cols, ArrowDown: cols }[e.key];
          if (enlarged) step = step > 0 ? 1 : -1;
          var next = order[Math.min(order.length - 1, Math.max(0, i + step))];
          if (!next || next === cur) return;
          e.preventDefault();
          if (enlarged) enlarge(next); else next.root.focus();
          break;
      }
    });

    // The cameras to show: those the URL or the named wall lists, in that
    // order, or else every camera in config order.
    function apply(cams) {
      if (!Array.isArray(cams)) cams = [];
      var byName = {};
      cams.forEach(function (c) {
        if (c && typeof c.name === 'string' && c.name && !byName[c.name]) byName[c.name] = c;
      });
      var names = spec.cams || (wallDef && wallDef.cameras) ||
        cams.filter(function (c) { return c && byName[c.name] === c; }).map(function (c) { return c.name; });
      var seen = new Set();
      var next = [];
      names.forEach(function (name) {
        if (seen.has(name) || !NAME_RE.test(name)) return;
        seen.add(name);
        var tile = tiles.get(name);
        if (!tile) {
          tile = new Tile(name, { interactive: true });
          tiles.set(name, tile);
          vis.observe(tile);
        }
        if (byName[name]) tile.update(byName[name]); else tile.setUnknown();
        next.push(tile);
      });
      tiles.forEach(function (tile, name) {
        if (!seen.has(name)) {
          if (tile === enlarged) shrink(false);
          vis.unobserve(tile);
          tile.destroy();
          tiles.delete(name);
        }
      });
      order = next;
      // Keep the order, moving nodes only when needed: moving a <video>
      // can interrupt its playback.
      order.forEach(function (tile, i) {
        if (wall.children[i] !== tile.root) wall.insertBefore(tile.root, wall.children[i] || null);
      });
      layout();
      empty.hidden = order.length > 0;
      empty.textContent = 'No cameras configured.';

      var counts = { live: 0, connecting: 0, offline: 0 };
      order.forEach(function (t) {
        var st = t.shown().status;
        if (st && counts[st.state] != null) counts[st.state]++;
      });
      var parts = [order.length + (order.length === 1 ? ' camera' : ' cameras')];
      ['live', 'connecting', 'offline'].forEach(function (s) {
        if (counts[s]) parts.push(counts[s] + ' ' + s);
      });
      summary.textContent = parts.join(' · ');
    }

    // Links to the named walls, once there are any.
    var navDone = false;
    function showWalls(list) {
      navDone = true;
      if (!Array.isArray(list) || !list.length) return;
      nav.textContent = '';
      var links = [{ name: '', href: '/', text: 'All' }].concat(list.map(function (w) {
        return { name: w.name, href: '/walls/' + encodeURIComponent(w.name), text: w.name };
      }));
      links.forEach(function (l) {
        var a = el('a', '', l.text);
        a.href = l.href;
        if (l.name === spec.wall && !spec.cams) a.setAttribute('aria-current', 'page');
        nav.appendChild(a);
      });
      nav.hidden = false;
    }

    // A named wall is looked up first, and again after the server was
    // unreachable (it may have come back with another config).
    var wallFresh = false;
    poll(function () {
      if (!navDone) {
        getJSON('/api/v1/walls').then(function (res) { if (!res.notFound) showWalls(res.body); }, function () {});
      }
      if (spec.wall && !wallFresh) {
        return getJSON('/api/v1/walls/' + encodeURIComponent(spec.wall)).then(function (res) {
          setConn(true);
          if (res.notFound) {
            summary.textContent = '';
            empty.textContent = 'There is no wall named "' + spec.wall + '".';
            empty.hidden = false;
            return;
          }
          wallDef = res.body || { cameras: [] };
          wallFresh = true;
          return pollCameras();
        }, function (err) {
          setConn(false);
          order.forEach(function (tile) { tile.setStale(); });
          throw err;
        });
      }
      return pollCameras();
    });

    function pollCameras() {
      return getJSON('/api/v1/cameras').then(function (res) {
        setConn(true);
        apply(res.body || []);
      }, function (err) {
        setConn(false);
        wallFresh = false;
        order.forEach(function (tile) { tile.setStale(); });
        throw err;
      });
    }
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
    // A view link opens this camera alone: the other pages need a login.
    var back = document.querySelector('.back');
    if (TOKEN && back) back.hidden = true;
    document.title = (name || 'Camera') + ' · rtsp2hls';
    if (!name) return;

    var tile = new Tile(name, { controls: true, badge: document.getElementById('badge'), stream: 'main',
      first: window.rtsp2hlsFirst });
    stage.appendChild(tile.root);
    registry.tile = tile;
    // Only a hidden tab stops the camera page's one video: it is what the
    // page is for, even scrolled a little.
    watchVisibility(function () { return [tile]; });
    startLatencyReadout(function () { return [tile]; });

    document.addEventListener('keydown', function (e) {
      if (plainKey(e) && (e.key === 'f' || e.key === 'F')) {
        e.preventDefault();
        toggleFullscreen();
      }
    });

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
      if (cam.substream) {
        var s = cam.substream;
        parts.push('substream ' + s.state + (s.width && s.height ? ' ' + s.width + '×' + s.height : ''));
      }
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
