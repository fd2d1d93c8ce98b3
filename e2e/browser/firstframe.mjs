#!/usr/bin/env node
// Where the first frame of a camera page goes: opens the page in headless
// Chromium RUNS times and, for each load, reports a timeline from navigation
// start to the first presented frame. Run by e2e/first_test.go.
//
//   node e2e/browser/firstframe.mjs --url http://HOST/cams/NAME/ [--runs 7]
//       [--cache cold|warm] [--settle 3] [--pause-ms 700] [--chromium PATH]
//       [--first on|off]
//
// --cache cold (default): every load in a fresh browser context (empty HTTP
// cache, as a first visit); warm: one context, the first load is thrown away
// and the others find the assets in the cache (as a reload or a second
// visit). --settle: seconds to keep playing after the first frame before the
// latency to live is read. --first off: without the server's first.js still
// (stillFrameMs) to compare with. --pause-ms: wait between loads, plus a random
// share of a second so that loads land at every phase of the stream's parts.
//
// Prints ONE JSON object on stdout: {"runs":[RUN...], "consoleErrors":[...],
// "pageErrors":[...], "httpErrors":[...]}; each RUN has, in ms from
// navigation start (performance.now() in the page):
//
//   firstFrameMs   first frame presented (requestVideoFrameCallback) by the
//                   player (hls.js)
//   stillFrameMs   first.js's still of the latest keyframe presented (null:
//                   none); still: {error: why first.js gave up, left: its
//                   video still in the page at the end}
//   nav            {responseStart, responseEnd, domInteractive, dcl}: the HTML
//   marks          {hlsjs: hls.min.js ran (window.Hls set), app: app.js ran
//                   (window.rtsp2hls set), hlsNew: new Hls(...), and the first
//                   of each hls.js event: manifestLoading, manifestLoaded,
//                   levelLoading, levelLoaded, fragLoading, fragLoaded,
//                   bufferCodecs, bufferAppending, bufferAppended, fragBuffered,
//                   and the video's loadedmetadata, loadeddata, canplay, playing}
//   resources      every request: {name, type, start, reqStart, respStart,
//                   end, size (bytes on the wire, 0 from the cache)}, HLS file
//                   names shortened to what follows the last '_'
//   frags          hls.js fragment/part loads: {sn, part, loading, loaded,
//                   buffered}
//   startPosition  the video's currentTime at the first frame; liveEdge: the
//                   end of the playlist then; hls.js's targetLatency
//   latency        after --settle s: {hls: hls.latency (distance to the live
//                   edge), pdt: the page's own readout (server receive time of
//                   the frame on screen to now), target: hls.targetLatency}
//
// It judges nothing; it exits 1 (with "error") only when it could not run.

import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const o = { first: 'on', url: '', runs: 7, cache: 'cold', settle: 3, pauseMs: 700, chromium: '/usr/bin/chromium', timeoutS: 15 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = (eq > 0 ? a.slice(0, eq) : a).replace(/^--/, '');
    const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (key) {
      case 'url': o.url = val(); break;
      case 'runs': o.runs = Number(val()); break;
      case 'cache': o.cache = val(); break;
      case 'settle': o.settle = Number(val()); break;
      case 'pause-ms': o.pauseMs = Number(val()); break;
      case 'chromium': o.chromium = val(); break;
      case 'override': o.override = JSON.parse(val()); break;
      case 'first': o.first = val(); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.url) throw new Error('--url is required');
  if (o.first !== 'on' && o.first !== 'off') throw new Error('--first is on or off');
  if (!(o.runs >= 1)) throw new Error('--runs must be ≥ 1');
  if (o.cache !== 'cold' && o.cache !== 'warm') throw new Error('--cache is cold or warm');
  return o;
}

// Runs in the page before any of its scripts.
function probe() {
  const st = { marks: {}, frags: [], firstFrameMs: null, stillFrameMs: null, startPosition: null, liveEdge: null, targetLatency: null, loaf: [] };
  window.__ff = st;
  // The harness awaits this rather than polling the page, which would
  // take the main thread from the page while it starts.
  let firstFrame;
  st.done = new Promise((res) => { firstFrame = res; });
  // Long animation frames (Chromium): what kept the main thread busy, with
  // the scripts that ran in them.
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        if (st.loaf.length >= 60 || (st.firstFrameMs != null && e.startTime > st.firstFrameMs)) continue;
        st.loaf.push({
          start: Math.round(e.startTime), dur: Math.round(e.duration), blocking: Math.round(e.blockingDuration || 0),
          scripts: (e.scripts || []).map((x) => ({
            start: Math.round(x.startTime), dur: Math.round(x.duration), invoker: x.invoker,
            src: (x.sourceURL || '').replace(/^.*\//, ''), fn: x.sourceFunctionName, compile: Math.round(x.startTime && x.executionStart ? x.executionStart - x.startTime : 0),
          })),
        });
      }
    }).observe({ type: 'long-animation-frame', buffered: true });
  } catch (e) { /* not Chromium */ }
  const override = window.__ffOverride || null;
  const ms = () => Math.round(performance.now() * 10) / 10;
  const mark = (k) => { if (st.marks[k] == null) st.marks[k] = ms(); };

  // hls.js assigns window.Hls when its script has run; app.js makes
  // window.rtsp2hls. A subclass of Hls sees every instance the page makes.
  let RealHls;
  Object.defineProperty(window, 'Hls', {
    configurable: true,
    get() { return RealHls; },
    set(H) {
      mark('hlsjs');
      if (typeof H !== 'function') { RealHls = H; return; }
      RealHls = class extends H {
        constructor(cfg) {
          super(override ? Object.assign({}, cfg, override) : cfg);
          mark('hlsNew');
          instrument(this, H);
        }
      };
    },
  });
  // first.js's still of the latest keyframe, shown before hls.js runs.
  let firstStill;
  Object.defineProperty(window, 'rtsp2hlsFirst', {
    configurable: true,
    get() { return firstStill; },
    set(v) {
      mark('firstjs');
      firstStill = v;
      if (v && v.video) {
        v.video.addEventListener('loadeddata', () => mark('stillLoaded'), { once: true });
        v.video.requestVideoFrameCallback(() => { st.stillFrameMs = ms(); });
      }
    },
  });
  let reg;
  Object.defineProperty(window, 'rtsp2hls', {
    configurable: true,
    get() { return reg; },
    set(v) { mark('app'); reg = v; },
  });

  function instrument(hls, H) {
    const E = H.Events;
    const first = {
      manifestLoading: E.MANIFEST_LOADING, manifestLoaded: E.MANIFEST_LOADED, manifestParsed: E.MANIFEST_PARSED,
      levelLoading: E.LEVEL_LOADING, levelLoaded: E.LEVEL_LOADED, fragLoading: E.FRAG_LOADING, fragLoaded: E.FRAG_LOADED,
      bufferCodecs: E.BUFFER_CODECS, bufferCreated: E.BUFFER_CREATED, bufferAppending: E.BUFFER_APPENDING,
      bufferAppended: E.BUFFER_APPENDED, fragBuffered: E.FRAG_BUFFERED, mediaAttached: E.MEDIA_ATTACHED,
    };
    for (const k in first) hls.on(first[k], () => mark(k));
    const key = (d) => (d && d.frag ? d.frag.sn + '/' + (d.part ? d.part.index : '-') : '');
    const byKey = {};
    const rec = (d) => {
      const k = key(d);
      if (!k) return null;
      if (!byKey[k] && st.frags.length < 40) {
        byKey[k] = { sn: d.frag.sn, part: d.part ? d.part.index : null };
        st.frags.push(byKey[k]);
      }
      return byKey[k] || null;
    };
    hls.on(E.FRAG_LOADING, (e, d) => { const r = rec(d); if (r && r.loading == null) r.loading = ms(); });
    hls.on(E.FRAG_LOADED, (e, d) => { const r = rec(d); if (r && r.loaded == null) r.loaded = ms(); });
    hls.on(E.FRAG_BUFFERED, (e, d) => { const r = rec(d); if (r && r.buffered == null) r.buffered = ms(); });
    hls.on(E.LEVEL_LOADED, (e, d) => {
      if (st.levelEdge == null && d.details) {
        st.levelEdge = Math.round(d.details.edge * 1000) / 1000;
        st.levelParts = d.details.partList ? d.details.partList.length : 0;
      }
    });
    st.hls = hls;
  }

  function watch(v) {
    for (const ev of ['loadedmetadata', 'loadeddata', 'canplay', 'playing']) v.addEventListener(ev, () => mark(ev), { once: true });
    v.requestVideoFrameCallback(() => {
      st.firstFrameMs = ms();
      firstFrame();
      st.startPosition = Math.round(v.currentTime * 1000) / 1000;
      const h = st.hls;
      try {
        if (h && h.latestLevelDetails) st.liveEdge = Math.round(h.latestLevelDetails.edge * 1000) / 1000;
        if (h) st.targetLatency = h.targetLatency;
      } catch (e) { /* optional */ }
    });
  }
  const scan = setInterval(() => {
    const v = document.querySelector('video');
    if (v) { clearInterval(scan); watch(v); }
  }, 5);
}

function collect() {
  const st = window.__ff;
  const nav = performance.getEntriesByType('navigation')[0];
  const r1 = (x) => Math.round(x * 10) / 10;
  const short = (u) => {
    const p = new URL(u).pathname;
    const f = p.slice(p.lastIndexOf('/') + 1) || p;
    const i = f.lastIndexOf('_');
    return i >= 0 && /\.(mp4|m3u8)$/.test(f) ? f.slice(i + 1) : f;
  };
  const resources = performance.getEntriesByType('resource').map((e) => {
    const q = new URL(e.name).search;
    return {
      name: short(e.name) + (q ? q.replace(/_HLS_/g, '') : ''),
      type: e.initiatorType, start: r1(e.startTime), reqStart: r1(e.requestStart), respStart: r1(e.responseStart),
      end: r1(e.responseEnd), size: e.transferSize,
    };
  });
  let latency = null;
  try {
    const h = st.hls;
    const p = window.rtsp2hls && window.rtsp2hls.tile && window.rtsp2hls.tile.player;
    latency = {
      hls: h && Number.isFinite(h.latency) ? Math.round(h.latency * 1000) / 1000 : null,
      target: h && Number.isFinite(h.targetLatency) ? h.targetLatency : null,
      pdt: p && typeof p.latency === 'function' && Number.isFinite(p.latency()) ? Math.round(p.latency() * 1000) / 1000 : null,
      rate: document.querySelector('video') ? document.querySelector('video').playbackRate : null,
    };
  } catch (e) { /* optional */ }
  return {
    firstFrameMs: st.firstFrameMs, stillFrameMs: st.stillFrameMs,
    still: window.rtsp2hlsFirst ? { error: window.rtsp2hlsFirst.error, left: !!document.querySelector('video.first') } : null,
    nav: nav ? { responseStart: r1(nav.responseStart), responseEnd: r1(nav.responseEnd), domInteractive: r1(nav.domInteractive), dcl: r1(nav.domContentLoadedEventEnd) } : null,
    marks: st.marks,
    resources,
    frags: st.frags,
    startPosition: st.startPosition,
    liveEdge: st.liveEdge,
    levelEdge: st.levelEdge,
    levelParts: st.levelParts,
    targetLatency: st.targetLatency,
    latency,
    loaf: st.loaf,
  };
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: err.message }) + '\n');
    process.exit(2);
  }
  const out = { url: o.url, cache: o.cache, runs: [], consoleErrors: [], pageErrors: [], httpErrors: [] };
  const hard = setTimeout(() => {
    out.error = 'firstframe.mjs hard timeout';
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(1);
  }, (o.runs + 1) * (o.timeoutS + o.settle + 3) * 1000 + 60000);
  hard.unref();

  let browser;
  try {
    browser = await chromium.launch({
      executablePath: o.chromium,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
      timeout: 60000,
    });
  } catch (err) {
    out.error = `launching ${o.chromium}: ${err.message}`;
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(1);
  }

  const hook = (page) => {
    page.on('console', (m) => { if (m.type() === 'error' && out.consoleErrors.length < 50) out.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => { if (out.pageErrors.length < 50) out.pageErrors.push(String(e)); });
    page.on('response', (r) => { if (r.status() >= 400 && out.httpErrors.length < 50) out.httpErrors.push({ url: r.url(), status: r.status() }); });
  };

  // One load: navigate, wait for the first frame, let it play, collect.
  async function load(page) {
    await page.goto(o.url, { waitUntil: 'domcontentloaded', timeout: 30000 });
    await page.evaluate((ms) => Promise.race([window.__ff.done, new Promise((res, rej) => setTimeout(() => rej(new Error('no frame')), ms))]), o.timeoutS * 1000);
    await page.waitForTimeout(o.settle * 1000);
    return page.evaluate(collect);
  }

  // --first off: the page as it would be without first.js's still (an
  // empty first.js, and a first.mp4 that is not there). Playwright's
  // interception slows every request of the page (~90 ms to the first
  // frame, measured), so compare with a build without first.js rather
  // than trust this for figures.
  async function routeFirst(page) {
    if (o.first === 'on') return;
    await page.route(/\/first\.(js|mp4)(\?|$)/, (route) => {
      const js = /\.js(\?|$)/.test(route.request().url());
      return route.fulfill(js ? { status: 200, contentType: 'text/javascript', body: '' } : { status: 404, body: '' });
    });
  }

  try {
    let warm = null;
    if (o.cache === 'warm') {
      const ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
      warm = await ctx.newPage();
      if (o.override) await warm.addInitScript((ov) => { window.__ffOverride = ov; }, o.override);
      await warm.addInitScript(probe);
      await routeFirst(warm);
      hook(warm);
      await load(warm); // fills the cache; not counted
    }
    for (let i = 0; i < o.runs; i++) {
      await new Promise((r) => setTimeout(r, o.pauseMs + Math.random() * 1000));
      let page = warm;
      let ctx = null;
      if (!page) {
        ctx = await browser.newContext({ viewport: { width: 1280, height: 720 } });
        page = await ctx.newPage();
        if (o.override) await page.addInitScript((ov) => { window.__ffOverride = ov; }, o.override);
        await page.addInitScript(probe);
        await routeFirst(page);
        hook(page);
      }
      try {
        out.runs.push(await load(page));
      } catch (err) {
        out.runs.push({ error: err.message });
      }
      if (ctx) await ctx.close();
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
