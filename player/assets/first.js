/*
 * rtsp2hls first picture, for the camera page (/cams/{name}/).
 *
 * hls.js is 624 KB of script: before it has run, loaded two playlists and
 * an init segment and a part, one after another, and Chromium has set up
 * its decoder, 300-400 ms have passed. This file is a few KB, the page's
 * first script: it asks the server for first.mp4 (init segment +
 * the part that begins with the camera's latest keyframe, one request)
 * and shows that keyframe in a <video> of its own, while hls.js is still
 * being parsed (the page's Link header has had the browser ask for
 * first.mp4 before it parsed the page). app.js lays that video over the
 * player's and removes it once the player has a moving picture (Tile, in
 * app.js). The keyframe is the one hls.js starts from, so the still turns
 * into the moving picture.
 *
 * It does nothing the page needs: on any failure (an old browser, a codec
 * MediaSource cannot take, an MPEG-TS stream, a camera not live) it
 * quietly steps aside and the page plays as it would without it.
 */
(function () {
  'use strict';

  var MS = window.MediaSource;
  if (!MS || !window.fetch || !window.Promise || !/^\/cams\/[^/]+\/$/.test(location.pathname)) return;

  var token = new URLSearchParams(location.search).get('token');
  var url = location.pathname + 'first.mp4' + (token ? '?token=' + encodeURIComponent(token) : '');
  var ctl = window.AbortController ? new AbortController() : null;

  var video = document.createElement('video');
  video.className = 'first';
  video.muted = true;
  video.playsInline = true;
  video.setAttribute('muted', '');
  video.setAttribute('playsinline', '');
  video.setAttribute('aria-hidden', 'true');

  // What app.js sees: the video, whether it shows a picture yet, and how to
  // get rid of it. onShown is app.js's to set.
  var first = window.rtsp2hlsFirst = {
    video: video,
    shown: false,
    shownAt: 0,   // performance.now() when the picture was ready
    error: '',
    done: false,  // dropped (or failed): nothing more will happen
    onShown: null,
    drop: drop
  };

  // The MediaSource opens while the request is on its way.
  var ms = new MS();
  var objectURL = URL.createObjectURL(ms);
  var opened = new Promise(function (resolve) {
    ms.addEventListener('sourceopen', resolve, { once: true });
  });
  video.src = objectURL;

  video.addEventListener('loadeddata', function () {
    if (first.done) return;
    first.shown = true;
    first.shownAt = performance.now();
    if (typeof first.onShown === 'function') first.onShown();
  }, { once: true });
  video.addEventListener('error', function () { fail('video error ' + (video.error && video.error.code)); });

  // The server's Link header has had the browser ask for this already
  // (preload): a fetch of the same URL with the same mode takes that answer.
  fetch(url, { credentials: 'same-origin', signal: ctl ? ctl.signal : undefined })
    .then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      var type = r.headers.get('Content-Type') || '';
      if (!MS.isTypeSupported(type)) throw new Error('MediaSource cannot play ' + type);
      return Promise.all([type, r.arrayBuffer(), opened]);
    })
    .then(function (got) {
      if (first.done) return;
      var sb = ms.addSourceBuffer(got[0]);
      // Sequence mode puts the clip at 0, whatever the camera's clock.
      sb.mode = 'sequence';
      sb.addEventListener('updateend', function () {
        // The end of the stream makes the decoder give out the frames it
        // holds back for reordering: the keyframe shows now.
        if (!first.done && ms.readyState === 'open') ms.endOfStream();
      }, { once: true });
      sb.appendBuffer(got[1]);
    })
    .catch(function (e) { fail(e && e.message ? e.message : String(e)); });

  function fail(msg) {
    if (first.done) return;
    first.error = msg;
    drop();
  }

  // drop removes the video and frees its decoder.
  function drop() {
    if (first.done) return;
    first.done = true;
    if (ctl) ctl.abort();
    if (video.parentNode) video.parentNode.removeChild(video);
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(objectURL);
  }
})();
