#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""avcheck.py — audio/video offset of a beep-and-flash recording.

Decodes a recording (any container PyAV/FFmpeg reads: the party's final
Matroska file from medrecorder) and pairs every flash (a video frame whose
mean luma jumps above 200 from below 180: the white frame medpeer.py sends
once a second) with the nearest beep onset (the first audio sample above
0.1 after 150 ms of quiet) within 0.2 s. The offset is beep time minus
flash time, from the container's timestamps: positive means the sound
comes late.

  /usr/bin/python3 avcheck.py FILE...   prints one line per file
"""

import sys

import av
import numpy as np

# Flashes this early in a file are left out: a recording starts on the
# clip's first frame, whose beep began a few ms before (the Opus delay
# compensation wraps to the end of the clip).
SETTLE = 0.3


def flashes(path):
    times = []
    prev = 0.0
    with av.open(path) as c:
        if not c.streams.video:
            return times
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"
        for frame in c.decode(vs):
            if frame.pts is None:
                continue
            y = frame.to_ndarray(format="gray")[::8, ::8]
            mean = float(y.mean())
            if mean > 200 and prev < 180:
                times.append(float(frame.pts * vs.time_base))
            prev = mean
    # Keep the once-a-second flashes; one sooner than 0.9 s after the
    # previous is where the sender jumped to a keyframe on request, and its
    # beep may be cut short.
    return [t for i, t in enumerate(times)
            if i == 0 or t - times[i - 1] >= 0.9]


def beeps(path):
    onsets = []
    with av.open(path) as c:
        if not c.streams.audio:
            return onsets
        as_ = c.streams.audio[0]
        rate = as_.codec_context.sample_rate or 48000
        last = None
        for frame in c.decode(as_):
            if frame.pts is None:
                continue
            a = frame.to_ndarray()
            if a.dtype.kind == "i":
                a = a.astype(np.float64) / 32768.0
            if a.ndim == 2:
                # planar: (channels, n); packed: (1, n * channels)
                if frame.format.is_planar:
                    a = a[0]
                else:
                    a = a.reshape(-1, len(frame.layout.channels))[:, 0]
            t0 = float(frame.pts * as_.time_base)
            for i in np.flatnonzero(np.abs(a) > 0.1):
                t = t0 + i / rate
                if last is None or t - last > 0.15:
                    onsets.append(t)
                last = t
    return onsets


def offsets(path):
    """Offsets in seconds (beep minus flash) of the pairs found."""
    return pair([t for t in flashes(path) if t >= SETTLE], beeps(path))


def pair(f, b):
    """Each flash with its nearest beep within 0.2 s: beep minus flash."""
    b = np.array(b)
    res = []
    if len(b) == 0:
        return res
    for t in f:
        k = int(np.argmin(np.abs(b - t)))
        if abs(b[k] - t) <= 0.2:
            res.append(float(b[k] - t))
    return res


def main():
    for path in sys.argv[1:]:
        o = [x * 1000 for x in offsets(path)]
        if o:
            print("%s: %d pairs, median %.1f ms, min %.1f, max %.1f" % (
                path, len(o), float(np.median(o)), min(o), max(o)))
        else:
            print("%s: no flash/beep pairs" % path)


if __name__ == "__main__":
    main()
