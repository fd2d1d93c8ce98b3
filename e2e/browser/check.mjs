#!/usr/bin/env node
// Headless-browser check for rtsp2hls pages, run by the Go e2e tests.
//
//   node e2e/browser/check.mjs --url URL --seconds N [--screenshot FILE]
//       [--chromium PATH] [--width W --height H] [--console] [--insecure]
//       [--latency-ms N] [--actions JSON]
//
// Opens URL in the system Chromium (never a downloaded one), watches every
// <video> on the page for N seconds and prints ONE JSON object on stdout:
//
//   {"url":..., "seconds":N,
//    "videos":[{"camera":"demo1","firstFrameMs":123,"frames":250,
//               "width":640,"height":360,"maxGapMs":80,"currentTime":9.8,
//               "maxGapEndMs":5120,"lastFrameMs":9990,"nowMs":10000,
//               "timeOriginMs":1790000000000,"droppedFrames":0,"latencyS":1.2}],
//    "removedVideos":[...same shape, videos the page took out during the run],
//    "consoleErrors":[...], "pageErrors":[...],
//    "failedRequests":[{"url":...,"error":...}],
//    "httpErrors":[{"url":...,"status":503}]}
//
// --console also records every console message (any type) in "console",
// which helps when a test fails.
// --insecure accepts any TLS certificate (rtsp2hls's own, made by tls: auto).
// --user and --password answer the server's login prompt (users: in config).
// --latency-ms adds N ms to every request before its answer starts (Chromium's
// network emulation), as a network's round trip would: on loopback there is
// none, and what it costs many players to share a few connections shows
// only with one.
//
// Each video also reports: "stream" (its data-stream, "main" or "sub"),
// "rect" (its box in the viewport: x, y, w, h), "onScreen" (the box
// overlaps the viewport), "pdtLatencyS" (the latency the page computes
// from the program date time, what its tiles show), "shownLatency" (the
// text of the tile's readout), "suspended" and "suspends" (whether the
// page has stopped the video because nobody can see it, and how often).
// The report also has "requests": HLS requests made, per stream
// ("NAME" or "NAME/sub"), and "protocols": requests per HTTP version
// ("h2", "http/1.1"), from the page's resource timing.
//
// --actions is a JSON list of steps, each at a time from navigation:
//   [{"at": 10, "label": "enlarge", "focus": "SELECTOR", "key": "Enter"},
//    {"at": 20, "click": "SELECTOR"}, {"at": 30, "scroll": 2000},
//    {"at": 40, "hide": true}, {"at": 50, "hide": false}, {"at": 60, "eval": "JS"}]
// "hide" makes the page hidden (true) or visible again (false), as when its
// tab goes to the background and comes back. Playwright keeps every page
// visible, even behind another tab, so this overrides
// document.visibilityState and document.hidden and fires visibilitychange,
// which is what a browser does.
// Just before each step the report's "marks" gets {at, label, unixMs,
// videos, tiles, requests, protocols}: what had happened up to then (and
// when, in Unix milliseconds), so a test can tell what happened between
// two steps.
//
// "tiles" lists the page's camera tiles (.tile) in document order:
// {name, badge, overlay, title, rect, enlarged}: the camera name, the
// badge's text, the overlay's title ("" when hidden), the tile's hover
// text and its box.
// latencyS is hls.js's estimate of the distance to the live edge, read from
// the page's debugging hook (window.rtsp2hls.players); null when unknown.
//
// It judges nothing: it exits 0 whenever it could run the browser, and the
// Go test decides what is good enough. It exits 1 (with {"error":...} on
// stdout) only when the check itself could not run, e.g. no Chromium.
//
// Frames are counted with requestVideoFrameCallback, i.e. frames actually
// presented, not bytes downloaded. Videos added to the page later (the wall
// adds tiles after its first API poll) are picked up as they appear.
// gaps lists every freeze longer than 500 ms as {startMs, endMs} (last
// frame before, first frame after).
// firstFrameMs, maxGapEndMs, lastFrameMs and nowMs (when the report was
// taken) are from navigation start; timeOriginMs is that start in Unix
// milliseconds, so a test can line page events up with its own clock.

import { chromium } from 'playwright-core';

const MAX_LIST = 200; // cap each list so a recovery loop cannot flood stdout

function parseArgs(argv) {
  const opts = { url: '', seconds: 10, screenshot: '', chromium: '/usr/bin/chromium', width: 1280, height: 720, console: false,
    insecure: false, actions: [], latencyMs: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = (eq > 0 ? a.slice(0, eq) : a).replace(/^--/, '');
    const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (key) {
      case 'url': opts.url = val(); break;
      case 'seconds': opts.seconds = Number(val()); break;
      case 'screenshot': opts.screenshot = val(); break;
      case 'chromium': opts.chromium = val(); break;
      case 'width': opts.width = Number(val()); break;
      case 'height': opts.height = Number(val()); break;
      case 'console': opts.console = true; break;
      case 'insecure': opts.insecure = true; break;
      case 'user': opts.user = val(); break;
      case 'password': opts.password = val(); break;
      case 'latency-ms': opts.latencyMs = Number(val()); break;
      case 'actions': opts.actions = JSON.parse(val()); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!opts.url) throw new Error('--url is required');
  if (!(opts.seconds > 0)) throw new Error('--seconds must be > 0');
  if (!Array.isArray(opts.actions)) throw new Error('--actions must be a JSON list');
  opts.actions.sort((a, b) => a.at - b.at);
  return opts;
}

// Runs in the page before any of its scripts. Keeps per-video stats in
// window.__rtsp2hlsCheck, keyed by element.
function pageProbe() {
  const GAP_MS = 500; // freezes longer than this are listed in "gaps"
  const stats = [];
  window.__rtsp2hlsCheck = stats;
  // HTTP versions of every request, from resource timing (the default
  // buffer of 250 entries would fill in seconds, so count as they come).
  const protocols = {};
  window.__rtsp2hlsProtocols = protocols;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const p = e.nextHopProtocol || 'unknown';
        protocols[p] = (protocols[p] || 0) + 1;
      }
    }).observe({ type: 'resource', buffered: true });
  } catch (e) { /* old browser: no protocols */ }
  const seen = new WeakSet();
  function watch(video) {
    seen.add(video);
    const s = { video, firstFrameMs: null, frames: 0, width: 0, height: 0, lastFrameAt: 0, maxGapMs: 0, maxGapEndMs: null, gaps: [] };
    stats.push(s);
    if (typeof video.requestVideoFrameCallback !== 'function') return;
    const onFrame = (nowTs, meta) => {
      const t = performance.now();
      if (s.firstFrameMs === null) s.firstFrameMs = Math.round(t);
      else {
        if (t - s.lastFrameAt > s.maxGapMs) {
          s.maxGapMs = Math.round(t - s.lastFrameAt);
          s.maxGapEndMs = Math.round(t);
        }
        if (t - s.lastFrameAt > GAP_MS && s.gaps.length < 200) {
          s.gaps.push({ startMs: Math.round(s.lastFrameAt), endMs: Math.round(t) });
        }
      }
      s.lastFrameAt = t;
      s.frames++;
      s.width = meta.width;
      s.height = meta.height;
      // The callback is per element and survives src changes (hls.js
      // recreation), so one registration chain covers the whole run.
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }
  function scan() {
    for (const v of document.querySelectorAll('video')) if (!seen.has(v)) watch(v);
  }
  // Polling rather than a MutationObserver: it also works before <body>
  // exists, and 50 ms is far below anything the check measures.
  setInterval(scan, 50);
  document.addEventListener('DOMContentLoaded', scan);
}

function collect() {
  return (window.__rtsp2hlsCheck || []).map((s) => {
    const v = s.video;
    let dropped = null;
    let latency = null;
    let p = null;
    try {
      p = v.rtsp2hlsPlayer || null;
      const reg = window.rtsp2hls && window.rtsp2hls.players && window.rtsp2hls.players[v.getAttribute('data-camera')];
      if (!p && reg && reg.video === v) p = reg;
      if (p && p.hls && Number.isFinite(p.hls.latency)) latency = Math.round(p.hls.latency * 1000) / 1000;
    } catch (e) { /* the hook is optional */ }
    let pdt = null;
    try {
      const l = p && typeof p.latency === 'function' ? p.latency() : null;
      if (Number.isFinite(l)) pdt = Math.round(l * 1000) / 1000;
    } catch (e) { /* optional */ }
    const tile = v.closest ? v.closest('.tile') : null;
    const shown = tile ? tile.querySelector('.latency') : null;
    const r = v.getBoundingClientRect();
    if (typeof v.getVideoPlaybackQuality === 'function') dropped = v.getVideoPlaybackQuality().droppedVideoFrames;
    return {
      camera: v.getAttribute('data-camera') || '',
      firstFrameMs: s.firstFrameMs,
      frames: s.frames,
      width: s.width || v.videoWidth,
      height: s.height || v.videoHeight,
      maxGapMs: s.maxGapMs,
      maxGapEndMs: s.maxGapEndMs,
      lastFrameMs: Math.round(s.lastFrameAt),
      gaps: s.gaps,
      nowMs: Math.round(performance.now()),
      timeOriginMs: Math.round(performance.timeOrigin),
      currentTime: Math.round(v.currentTime * 1000) / 1000,
      droppedFrames: dropped,
      latencyS: latency,
      inDocument: v.isConnected,
      hasRVFC: typeof v.requestVideoFrameCallback === 'function',
      stream: v.getAttribute('data-stream') || '',
      rect: { x: Math.round(r.x), y: Math.round(r.y), w: Math.round(r.width), h: Math.round(r.height) },
      onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
      pdtLatencyS: pdt,
      shownLatency: shown && !shown.hidden ? shown.textContent : '',
      suspended: p ? !!p.suspended : null,
      suspends: p ? p.suspends || 0 : null,
    };
  });
}

function collectTiles() {
  return Array.from(document.querySelectorAll('.tile')).map((t) => {
    const r = t.getBoundingClientRect();
    const badge = t.querySelector('.badge') || document.getElementById('badge');
    const overlay = t.querySelector('.overlay');
    const title = overlay && !overlay.hidden ? overlay.querySelector('.title') : null;
    return {
      name: t.getAttribute('data-tile') || '',
      badge: badge ? badge.textContent : '',
      overlay: title ? title.textContent : '',
      title: t.title || '',
      rect: { x: Math.round(r.x), y: Math.round(r.y), w: Math.round(r.width), h: Math.round(r.height) },
      enlarged: t.classList.contains('enlarged'),
    };
  });
}

function setHidden(hidden) {
  if (hidden) {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  } else {
    delete document.visibilityState;
    delete document.hidden;
  }
  document.dispatchEvent(new Event('visibilitychange'));
}

function collectProtocols() {
  return Object.assign({}, window.__rtsp2hlsProtocols || {});
}

// hlsStream names the camera stream an HLS request is for: "NAME" for
// /cams/NAME/FILE, "NAME/sub" for /cams/NAME/sub/FILE; "" for others.
function hlsStream(url) {
  let path;
  try { path = new URL(url).pathname; } catch (e) { return ''; }
  const m = /^\/cams\/([^/]+)\/(sub\/)?[^/]+$/.exec(path);
  if (!m) return '';
  return decodeURIComponent(m[1]) + (m[2] ? '/sub' : '');
}

function push(list, item) {
  if (list.length < MAX_LIST) list.push(item);
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`check.mjs: ${err.message}\n`);
    process.stdout.write(JSON.stringify({ error: err.message }) + '\n');
    process.exit(2);
  }

  const out = {
    url: opts.url,
    seconds: opts.seconds,
    videos: [],
    removedVideos: [],
    consoleErrors: [],
    pageErrors: [],
    failedRequests: [],
    httpErrors: [],
    requests: {},
    protocols: {},
    marks: [],
    tiles: [],
  };

  // Never hang a test run: whatever happens, give up well after the window.
  const hardTimeout = setTimeout(() => {
    out.error = 'check.mjs hard timeout';
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(1);
  }, (opts.seconds + 90) * 1000);
  hardTimeout.unref();

  let browser;
  try {
    browser = await chromium.launch({
      executablePath: opts.chromium,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
      timeout: 60000,
    });
  } catch (err) {
    out.error = `launching ${opts.chromium}: ${err.message}`;
    process.stderr.write(`check.mjs: ${out.error}\n`);
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(1);
  }

  try {
    const context = await browser.newContext({
      viewport: { width: opts.width, height: opts.height }, ignoreHTTPSErrors: opts.insecure,
      // Answers the server's Basic prompt as a person would the browser's
      // dialog; the page then sends the credentials with every request.
      httpCredentials: opts.user ? { username: opts.user, password: opts.password || '' } : undefined,
    });
    const page = await context.newPage();
    if (opts.latencyMs > 0) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false, latency: opts.latencyMs, downloadThroughput: -1, uploadThroughput: -1,
      });
    }
    const t0 = performance.now();
    await page.addInitScript(pageProbe);

    if (opts.console) out.console = [];
    page.on('console', (msg) => {
      if (opts.console) push(out.console, `${Math.round(performance.now() - t0)}ms ${msg.type()}: ${msg.text()}`);
      if (msg.type() !== 'error') return;
      const loc = msg.location();
      push(out.consoleErrors, loc && loc.url ? `${msg.text()} (${loc.url})` : msg.text());
    });
    page.on('pageerror', (err) => push(out.pageErrors, String(err && err.stack ? err.stack : err)));
    page.on('requestfailed', (req) => {
      const f = req.failure();
      push(out.failedRequests, { url: req.url(), error: f ? f.errorText : '' });
    });
    page.on('request', (req) => {
      const k = hlsStream(req.url());
      if (k) out.requests[k] = (out.requests[k] || 0) + 1;
    });
    page.on('response', (res) => {
      if (res.status() >= 400) push(out.httpErrors, { url: res.url(), status: res.status() });
    });

    try {
      const res = await page.goto(opts.url, { waitUntil: 'domcontentloaded', timeout: 30000 });
      if (res && res.status() >= 400) out.navigationStatus = res.status();
    } catch (err) {
      out.navigationError = err.message;
    }

    if (!out.navigationError) {
      for (const a of opts.actions) {
        const wait = t0 + a.at * 1000 - performance.now();
        if (wait > 0) await page.waitForTimeout(wait);
        out.marks.push({
          at: a.at, label: a.label || '', unixMs: Date.now(),
          videos: (await page.evaluate(collect)).filter((v) => v.inDocument),
          tiles: await page.evaluate(collectTiles),
          requests: Object.assign({}, out.requests),
          protocols: await page.evaluate(collectProtocols),
        });
        try {
          if (a.focus) await page.focus(a.focus);
          if (a.click) await page.click(a.click);
          if (a.key) await page.keyboard.press(a.key);
          if (typeof a.scroll === 'number') await page.evaluate((y) => window.scrollTo(0, y), a.scroll);
          if (a.eval) await page.evaluate(a.eval);
          if (typeof a.hide === 'boolean') await page.evaluate(setHidden, a.hide);
        } catch (err) {
          out.actionError = `step at ${a.at}: ${err.message}`;
        }
      }
      const left = t0 + opts.seconds * 1000 - performance.now();
      if (left > 0) await page.waitForTimeout(left);
      // Videos the page removed during the run (a camera deleted from
      // the wall) are kept apart, so "every video plays" checks stay simple.
      const all = await page.evaluate(collect);
      out.videos = all.filter((v) => v.inDocument);
      out.removedVideos = all.filter((v) => !v.inDocument);
      out.protocols = await page.evaluate(collectProtocols);
      out.tiles = await page.evaluate(collectTiles);
      if (opts.screenshot) {
        try {
          await page.screenshot({ path: opts.screenshot });
        } catch (err) {
          out.screenshotError = err.message;
        }
      }
    }
  } catch (err) {
    out.error = err.message;
  } finally {
    await browser.close().catch(() => {});
  }

  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(out.error ? 1 : 0);
}

main();
