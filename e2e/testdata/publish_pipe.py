#!/usr/bin/env python3
"""Publishes to rtsp2hls the way the README's OpenCV example does: raw BGR
frames written into ffmpeg's stdin, which encodes them and pushes them over
RTSP. Instead of OpenCV and numpy it draws its frames with plain bytes (a
grey picture with a white bar moving across), so it runs on a bare Python.

    publish_pipe.py rtsp://127.0.0.1:8554/cam [--size 320x240] [--fps 25] [--seconds N]
"""
import argparse
import subprocess
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--seconds", type=float, default=0, help="0: forever")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    fps = args.fps

    # The same ffmpeg command as in the README.
    ffmpeg = subprocess.Popen([
        "ffmpeg", "-hide_banner", "-loglevel", "warning",
        "-re", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-r", str(fps), "-i", "-",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "veryfast", "-tune", "zerolatency",
        "-g", str(fps),
        "-f", "rtsp", "-rtsp_transport", "tcp", args.url,
    ], stdin=subprocess.PIPE)

    grey = bytes([64, 64, 64]) * (w * h)  # B, G, R for each pixel, row by row
    bar = 16
    white = b"\xff" * (bar * 3)
    start = time.monotonic()
    n = 0
    try:
        while not args.seconds or n < args.seconds * fps:
            frame = bytearray(grey)
            x = (n * 4) % (w - bar)
            for y in range(h):
                i = (y * w + x) * 3
                frame[i:i + bar * 3] = white
            ffmpeg.stdin.write(frame)  # exactly w*h*3 bytes a frame
            n += 1
            # ffmpeg stamps frame n at n/fps (-r) and, with -re, takes
            # frames no faster than that; pace like a camera all the same.
            time.sleep(max(0, start + n / fps - time.monotonic()))
    except BrokenPipeError:
        pass  # ffmpeg exited; its message says why
    finally:
        try:
            ffmpeg.stdin.close()
        except BrokenPipeError:
            pass
    return ffmpeg.wait()


if __name__ == "__main__":
    raise SystemExit(main())
