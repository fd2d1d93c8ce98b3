#!/usr/bin/python3
"""A real RTSP camera for tests: GStreamer's RTSP server with a live test
pattern in H.264 (x264, zerolatency), optionally with Opus audio.

    gst_camera.py --port 8554 --path /cam --size 640x360 --fps 25 [--audio opus|pcmu]
    gst_camera.py --port 8554 --launch "libcamerasrc ! ... ! rtph264pay name=pay0 pt=96"

Prints "READY rtsp://127.0.0.1:PORT/PATH" on stdout once it listens.
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


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
    a = ap.parse_args()
    w, h = a.size.split("x")

    Gst.init(None)
    video = (
        f"videotestsrc is-live=true pattern={a.pattern} ! "
        f"video/x-raw,width={w},height={h},framerate={a.fps}/1 ! "
        f"timeoverlay font-desc=\"Sans 24\" ! "
        f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={a.fps} bitrate=800 ! "
        f"video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=0"
    )
    launch = a.launch or video
    if a.audio == "opus":
        launch += " audiotestsrc is-live=true wave=sine ! audioconvert ! opusenc ! rtpopuspay name=pay1 pt=97"
    elif a.audio == "pcmu":  # G.711, what many cameras send and HLS cannot carry
        launch += (" audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! "
                   "audio/x-raw,rate=8000,channels=1 ! mulawenc ! rtppcmupay name=pay1 pt=0")

    server = GstRtspServer.RTSPServer()
    server.set_address(a.address)
    server.set_service(str(a.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch("( " + launch + " )")
    factory.set_shared(True)
    server.get_mount_points().add_factory(a.path, factory)
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
