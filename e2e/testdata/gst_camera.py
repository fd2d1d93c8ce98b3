#!/usr/bin/python3
"""A real RTSP camera for tests: GStreamer's RTSP server with a live test
pattern in H.264 (x264, zerolatency), optionally with Opus audio.

    gst_camera.py --port 8554 --path /cam --size 640x360 --fps 25 [--audio opus|pcmu]
    gst_camera.py --port 8554 --launch "libcamerasrc ! ... ! rtph264pay name=pay0 pt=96"
    gst_camera.py --port 8554 --mounts 16 --size 320x180 --fps 15

Prints "READY rtsp://127.0.0.1:PORT/PATH" on stdout once it listens.

--mounts N serves N distinct cameras from one process, at PATH1 ... PATHN
(/cam1 ... /cam16): each its own pattern, labelled with its name, so a
wall of them shows which tile is which. READY then gives the URL without
the number. Their keyframes are out of step, as those of real cameras
are: camera i starts i*FPS/N frames late, so its segments and LL-HLS parts
are ready at other moments than the others' (cameras in step would let
every player's waiting requests be answered at once, which hides what
many players cost a browser).
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def skip_frames(factory, media, n):
    """Drops the first n frames of the test pattern after every flush (the
    server seeks, and so flushes, the pipeline when the first client
    plays, which restarts the encoder on a keyframe): the stream's
    keyframes come n frames later than they would."""
    if n == 0:
        return
    left = [n]

    def probe(pad, info):
        if info.type & Gst.PadProbeType.EVENT_FLUSH:
            if info.get_event().type == Gst.EventType.FLUSH_STOP:
                left[0] = n
            return Gst.PadProbeReturn.OK
        if left[0] > 0:
            left[0] -= 1
            return Gst.PadProbeReturn.DROP
        return Gst.PadProbeReturn.OK

    src = media.get_element().get_by_name("src")
    src.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER | Gst.PadProbeType.EVENT_FLUSH, probe)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--address", default="127.0.0.1", help="0.0.0.0 to serve the network")
    ap.add_argument("--path", default="/cam")
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--audio", choices=["none", "opus", "pcmu"], default="none")
    ap.add_argument("--pattern", default="ball")
    ap.add_argument("--launch", help="replace the video pipeline; must end in 'rtph264pay name=pay0 pt=96'")
    ap.add_argument("--mounts", type=int, default=0, help="serve this many distinct cameras at PATH1..PATHN")
    a = ap.parse_args()
    w, h = a.size.split("x")

    Gst.init(None)

    def video(pattern, label=""):
        overlay = 'timeoverlay font-desc="Sans 24"'
        if label:
            # Small pictures get small text, so name and clock stay readable.
            font = max(8, int(h) // 15)
            overlay = (f'textoverlay text="{label}" valignment=bottom halignment=left shaded-background=true '
                       f'font-desc="Sans Bold {font}" ! '
                       f'timeoverlay valignment=bottom halignment=right shaded-background=true font-desc="Sans {font}"')
        return (
            f"videotestsrc name=src is-live=true pattern={pattern} ! "
            f"video/x-raw,width={w},height={h},framerate={a.fps}/1 ! "
            f"{overlay} ! "
            f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={a.fps} bitrate=800 ! "
            f"video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=0"
        )

    def with_audio(launch):
        if a.audio == "opus":
            launch += " audiotestsrc is-live=true wave=sine ! audioconvert ! opusenc ! rtpopuspay name=pay1 pt=97"
        elif a.audio == "pcmu":  # G.711, what many cameras send and HLS cannot carry
            launch += (" audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! "
                       "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0")
        return launch

    if a.mounts > 0:
        # Patterns that look different at a glance, cheap to encode (no
        # noise), none flashing.
        patterns = ["smpte", "ball", "checkers-8", "circular", "zone-plate", "gamut", "pinwheel", "spokes",
                    "colors", "gradient", "smpte75", "bar", "chroma-zone-plate", "checkers-4", "smpte100", "checkers-2"]
        mounts = {f"{a.path}{i + 1}": with_audio(video(patterns[i % len(patterns)], f"{a.path.strip('/')}{i + 1}"))
                  for i in range(a.mounts)}
    else:
        mounts = {a.path: with_audio(a.launch or video(a.pattern))}

    server = GstRtspServer.RTSPServer()
    server.set_address(a.address)
    server.set_service(str(a.port))
    for i, (path, launch) in enumerate(mounts.items()):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch("( " + launch + " )")
        factory.set_shared(True)
        if a.mounts > 0:
            factory.connect("media-configure", skip_frames, i * a.fps // a.mounts)
        server.get_mount_points().add_factory(path, factory)
    if server.attach(None) == 0:
        print("cannot listen on port", a.port, file=sys.stderr)
        sys.exit(1)

    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    signal.signal(signal.SIGINT, lambda *_: loop.quit())
    print(f"READY rtsp://{a.address}:{a.port}{a.path}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
