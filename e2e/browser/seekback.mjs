#!/usr/bin/env node
// A viewer's seek on the camera page sticks: the player's catch-up to live
// (keepLive in player/assets/app.js) must not undo it, and takes over again
// once the viewer is back at live. Run by e2e/latency_test.go.
//
//   node e2e/browser/seekback.mjs --url http://HOST/cams/NAME/
//
// Prints ONE JSON object: {"start": S, "back": S, "later": S, "live": S},
// hls.js's distance to the live edge (s) after 6 s of playing, 0.3 s and
// 3 s after the viewer seeks 3 s back, and 3 s after seeking to live;
// or {"error": "..."}.
import { checkPage, urlArg } from './page.mjs';

await checkPage(urlArg(), async (page) => {
  const player = () => Object.values(window.rtsp2hls.players).find((p) => p.hls && p.hasFrame);
  await page.waitForFunction(player, null, { timeout: 30000 });
  const distance = () => page.evaluate((src) => {
    const p = (0, eval)(src)();
    // Now, not hls.latency (updated on the next timeupdate).
    return (p.hls.latency > 0 && p.hls.liveSyncPosition != null)
      ? p.hls.liveSyncPosition + p.hls.targetLatency - p.video.currentTime : null;
  }, `(${player})`);
  await page.waitForTimeout(6000);
  const out = { start: await distance() };
  // What the native controls do when the viewer drags back: set currentTime.
  await page.evaluate((src) => { const v = (0, eval)(src)().video; v.currentTime -= 3; }, `(${player})`);
  await page.waitForTimeout(300);
  out.back = await distance();
  await page.waitForTimeout(2700);
  out.later = await distance();
  await page.evaluate((src) => { const p = (0, eval)(src)(); p.video.currentTime = p.hls.liveSyncPosition; }, `(${player})`);
  await page.waitForTimeout(3000);
  out.live = await distance();
  return out;
});
