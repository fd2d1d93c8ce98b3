#!/usr/bin/env node
// True capture-to-display latency of an rtsp2hls camera page, read from the
// picture itself. Run by e2e/latency_bench_test.go.
//
//   node e2e/browser/latency.mjs --url http://HOST/cams/NAME/ --seconds N [--chromium PATH]
//
// The camera must be bench/latency/stampcam: each frame carries its capture
// time (Unix ms, low 32 bits), a frame number and a CRC in 3 rows of 20
// black/white blocks across the top (layout in bench/latency/stampcam/stamp.go).
// On every frame the <video> presents (requestVideoFrameCallback) the page
// draws that strip of the frame to a canvas, reads the blocks and records
//
//   latency = (when the frame is on screen) - (its capture time)
//
// where "on screen" is the callback's expectedDisplayTime moved onto the
// wall clock (Date.now() - performance.now()). Capture and display are on
// one machine, one clock.
//
// Prints ONE JSON object on stdout:
//   {"firstFrameMs": 480,            navigation start -> first presented frame
//    "frames": 1790,                 frames presented (callbacks)
//    "decoded": 1788,                of which the stamp read back (sync + CRC)
//    "latenciesMs": [...],           one per decoded frame, in order
//    "skipped": 3,                   frame numbers missing between decoded frames
//    "repeated": 0,                  a frame number presented again
//    "waiting": [{"atMs": 5120}],    'waiting' events on the video (after the first frame)
//    "gaps": [{"startMs","endMs"}],  presented frames more than 1 s apart
//    "maxGapMs": 80,
//    "pageLatencyS": [...],          what the page itself shows (program date time), once a second
//    "consoleErrors": [...], "pageErrors": [...], "httpErrors": [...]}
// It judges nothing; it exits 1 (with "error") only when it could not run.

import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const o = { url: '', seconds: 60, chromium: '/usr/bin/chromium' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = (eq > 0 ? a.slice(0, eq) : a).replace(/^--/, '');
    const val = () => (eq > 0 ? a.slice(eq + 1) : argv[++i]);
    switch (key) {
      case 'url': o.url = val(); break;
      case 'seconds': o.seconds = Number(val()); break;
      case 'chromium': o.chromium = val(); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.url) throw new Error('--url is required');
  if (!(o.seconds > 0)) throw new Error('--seconds must be > 0');
  return o;
}

// Runs in the page before its scripts.
function probe() {
  const COLS = 20, ROWS = 3, BITS = COLS * ROWS, GAP_MS = 1000, TWO32 = 4294967296;
  const st = {
    firstFrameMs: null, frames: 0, decoded: 0, latenciesMs: [], skipped: 0, repeated: 0,
    waiting: [], gaps: [], maxGapMs: 0, lastAt: 0, lastFrameNo: null, pageLatencyS: [], watching: false,
  };
  window.__latency = st;

  function crc8(bytes) {
    let c = 0;
    for (const x of bytes) {
      c ^= x;
      for (let i = 0; i < 8; i++) c = (c & 0x80) ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    }
    return c;
  }

  // read returns {ms, frame} of the stamp in the RGBA strip, or null.
  function read(data, width) {
    const b = Math.floor(width / COLS);
    const bits = new Array(BITS);
    for (let i = 0; i < BITS; i++) {
      const x0 = (i % COLS) * b + (b >> 2), y0 = Math.floor(i / COLS) * b + (b >> 2);
      let sum = 0, n = 0;
      for (let y = y0; y < y0 + (b >> 1); y++) {
        for (let x = x0; x < x0 + (b >> 1); x++) {
          const p = (y * width + x) * 4;
          sum += data[p] + data[p + 1] + data[p + 2];
          n += 3;
        }
      }
      bits[i] = sum > 128 * n;
    }
    const get = (at, n) => { let v = 0; for (let i = 0; i < n; i++) v = v * 2 + (bits[at + i] ? 1 : 0); return v; };
    if (get(0, 4) !== 0b1010) return null;
    const ms = get(4, 32), frame = get(36, 16), crc = get(52, 8);
    const bytes = [Math.floor(ms / 16777216) & 0xff, (ms >>> 16) & 0xff, (ms >>> 8) & 0xff, ms & 0xff, frame >> 8, frame & 0xff];
    return crc8(bytes) === crc ? { ms, frame } : null;
  }

  function watch(video) {
    st.watching = true;
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    video.addEventListener('waiting', () => {
      if (st.firstFrameMs !== null && st.waiting.length < 200) st.waiting.push({ atMs: Math.round(performance.now()) });
    });
    const onFrame = (_now, meta) => {
      const t = performance.now();
      const wallOffset = Date.now() - t;
      if (st.firstFrameMs === null) st.firstFrameMs = Math.round(t);
      else {
        const gap = t - st.lastAt;
        if (gap > st.maxGapMs) st.maxGapMs = Math.round(gap);
        if (gap > GAP_MS && st.gaps.length < 200) st.gaps.push({ startMs: Math.round(st.lastAt), endMs: Math.round(t) });
      }
      st.lastAt = t;
      st.frames++;
      const w = meta.width || video.videoWidth;
      const h = Math.floor(w / COLS) * ROWS;
      if (w > 0) {
        if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
        ctx.drawImage(video, 0, 0, w, h, 0, 0, w, h);
        const s = read(ctx.getImageData(0, 0, w, h).data, w);
        if (s) {
          const shown = ((meta.expectedDisplayTime || t) + wallOffset) % TWO32;
          st.latenciesMs.push(Math.round(((shown - s.ms) % TWO32 + TWO32) % TWO32));
          st.decoded++;
          if (st.lastFrameNo !== null) {
            const d = (s.frame - st.lastFrameNo + 65536) % 65536;
            if (d === 0) st.repeated++;
            else if (d > 1 && d < 1000) st.skipped += d - 1;
          }
          st.lastFrameNo = s.frame;
        }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    setInterval(() => {
      try {
        const p = window.rtsp2hls && window.rtsp2hls.players && window.rtsp2hls.players[video.getAttribute('data-camera')];
        const l = p && typeof p.latency === 'function' ? p.latency() : null;
        if (Number.isFinite(l)) st.pageLatencyS.push(Math.round(l * 1000) / 1000);
      } catch (e) { /* the hook is optional */ }
    }, 1000);
  }
  const scan = setInterval(() => {
    const v = document.querySelector('video');
    if (v) { clearInterval(scan); watch(v); }
  }, 20);
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: err.message }) + '\n');
    process.exit(2);
  }
  const out = { url: o.url, seconds: o.seconds, consoleErrors: [], pageErrors: [], httpErrors: [] };
  const hard = setTimeout(() => {
    out.error = 'latency.mjs hard timeout';
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(1);
  }, (o.seconds + 90) * 1000);
  hard.unref();

  let browser;
  try {
    browser = await chromium.launch({
      executablePath: o.chromium,
      headless: true,
      // As e2e/browser/check.mjs: the machine's closed network needs the
      // background-networking flags.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
      timeout: 60000,
    });
  } catch (err) {
    out.error = `launching ${o.chromium}: ${err.message}`;
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(1);
  }
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 720 } })).newPage();
    await page.addInitScript(probe);
    page.on('console', (m) => { if (m.type() === 'error' && out.consoleErrors.length < 50) out.consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => { if (out.pageErrors.length < 50) out.pageErrors.push(String(e)); });
    page.on('response', (r) => { if (r.status() >= 400 && out.httpErrors.length < 50) out.httpErrors.push({ url: r.url(), status: r.status() }); });
    const t0 = Date.now();
    await page.goto(o.url, { waitUntil: 'domcontentloaded', timeout: 30000 });
    const left = t0 + o.seconds * 1000 - Date.now();
    if (left > 0) await page.waitForTimeout(left);
    const st = await page.evaluate(() => {
      const s = Object.assign({}, window.__latency);
      s.nowMs = Math.round(performance.now());
      return s;
    });
    delete st.lastAt;
    delete st.lastFrameNo;
    Object.assign(out, st);
  } catch (err) {
    out.error = err.message;
  } finally {
    await browser.close().catch(() => {});
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(out.error ? 1 : 0);
}

main();
