#!/usr/bin/env node
// Checks the player's patch of hls.js's fragment lookup (patchFragmentLookup
// in player/assets/app.js) against the real hls.js build the server embeds.
// Run by e2e/latency_test.go.
//
//   node e2e/browser/lookup.mjs --url http://HOST/cams/NAME/
//
// Opens the camera page, waits for its hls.js player, then asks the
// player's stream controller which fragment to load next when the buffer
// ends 1 us short of a segment's end (19.999999 with segments [18,19),
// [19,20), [20,21)): the next one (sn 23) is right, the one already loaded
// (sn 22) is the freeze. Prints ONE JSON object: {"patched": bool,
// "at": {"19.999999": sn, "19.5": sn, "20": sn}} or {"error": "..."}.
import { checkPage, urlArg } from './page.mjs';

await checkPage(urlArg(), async (page) => {
  await page.waitForFunction(() => {
    const ps = window.rtsp2hls && window.rtsp2hls.players;
    return ps && Object.values(ps).some((p) => p.hls && p.hls.streamController);
  }, null, { timeout: 30000 });
  return page.evaluate(() => {
    const p = Object.values(window.rtsp2hls.players).find((x) => x.hls && x.hls.streamController);
    const sc = p.hls.streamController;
    const frag = (sn, start) => ({ sn, start, duration: 1, end: start + 1, type: 'main', level: 0, cc: 0 });
    const fragments = [frag(21, 18), frag(22, 19), frag(23, 20)];
    const details = { fragments, startSN: 21, endSN: 23, live: true, partList: null, fragmentHint: undefined };
    // A controller in the state of the freeze: no previous fragment known
    // (a back-buffer flush made hls.js forget it), playing, loading parts.
    const ctl = Object.create(sc, {
      fragPrevious: { value: null, writable: true },
      loadingParts: { value: true, writable: true },
      bitrateTest: { value: false, writable: true },
      lastCurrentTime: { value: 19.9, writable: true },
      startFragRequested: { value: true, writable: true },
    });
    const at = {};
    for (const pos of [19.999999, 19.5, 20]) {
      const f = ctl.getFragmentAtPosition(pos, 21, details);
      at[String(pos)] = f ? f.sn : null;
    }
    return { patched: !!sc.getFragmentAtPosition.rtsp2hlsPatched, at };
  });
});
