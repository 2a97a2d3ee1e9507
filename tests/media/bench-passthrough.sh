#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# bench-passthrough.sh — passthrough recording cost: N concurrent medsched
# sessions, each recording an already-encoded 720p H.264 clip (file://,
# ~2 Mbit/s, 30 s) through medrecorder without re-encoding, against the
# same N hand-written gst-launch-1.0 pipelines (filesrc ! parsebin !
# h264parse ! medrecorder) in the same run. Prints CPU seconds per media
# second for both and their ratio.
#
# usage: bench-passthrough.sh BUILD_DIR [N]
set -euo pipefail
B=$(cd "$1" && pwd)
N=${2:-8}
W=$(mktemp -d /tmp/medsched-bench-XXXXXX)
trap 'rm -rf "$W"' EXIT
export GST_PLUGIN_PATH_1_0=$B/plugins GST_REGISTRY_1_0=$W/registry.bin
export GST_PLUGIN_SYSTEM_PATH_1_0=$(pkg-config --variable=pluginsdir gstreamer-1.0)
CLIP=$W/clip.mkv
gst-launch-1.0 -q videotestsrc num-buffers=900 pattern=ball ! \
  video/x-raw,width=1280,height=720,framerate=30/1,format=I420 ! \
  x264enc bitrate=2000 speed-preset=ultrafast key-int-max=60 ! h264parse ! \
  matroskamux ! filesink location="$CLIP" >/dev/null
MEDIA_S=$((N * 30))

M="$B/src/medsched --db $W/db --now 2026-12-07T08:00"
$M init --name B --zone Asia/Shanghai --layers CN \
  --calendars "$(dirname "$0")/../../calendars" >/dev/null
$M room add --name R --kind remote --features video,recording >/dev/null
$M mediator add --name M --languages zh --specialties wages >/dev/null
$M case add --number B1 --kind wages --party applicant,zh,remote,A >/dev/null
$M case dispatch 1 --department court-mediation >/dev/null
$M book 1 >/dev/null

cpu_of () { # runs "$@" N times concurrently; prints user+sys CPU seconds
  local t0 t1
  t0=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
  for i in $(seq "$N"); do "$@" "$i" & done
  wait
  # children's CPU (cutime + cstime) in clock ticks
  t1=$(awk '{print $16+$17}' /proc/$$/stat)
  echo "$t1"
}
# Each run is bounded: gst-launch-1.0 can wait forever for an EOS that
# GStreamer 1.22's GstBin lost after the recorder sealed (docs/media.md);
# sealed files are counted either way.
run_medsched () {
  timeout -k 5 120 $M record start 1 --regime hearing --input "file://$CLIP" \
    --dir "$W/med-$1" >/dev/null 2>&1
}
run_launch () {
  mkdir -p "$W/gl-$1"
  timeout -k 5 120 gst-launch-1.0 -q filesrc location="$CLIP" ! parsebin ! h264parse ! \
    medrecorder location="$W/gl-$1" >/dev/null 2>&1
}
HZ=$(getconf CLK_TCK)
s0=$(date +%s.%N); c0=$(awk '{print $16+$17}' /proc/$$/stat)
for i in $(seq "$N"); do run_medsched "$i" & done; wait
s1=$(date +%s.%N); c1=$(awk '{print $16+$17}' /proc/$$/stat)
for i in $(seq "$N"); do run_launch "$i" & done; wait
s2=$(date +%s.%N); c2=$(awk '{print $16+$17}' /proc/$$/stat)
ok_med=$(ls "$W"/med-*/recording.mkv 2>/dev/null | wc -l)
ok_gl=$(ls "$W"/gl-*/recording.mkv 2>/dev/null | wc -l)
awk -v n="$N" -v m="$MEDIA_S" -v hz="$HZ" -v a="$((c1 - c0))" \
    -v b="$((c2 - c1))" -v wa="$(echo "$s1 - $s0" | bc)" \
    -v wb="$(echo "$s2 - $s1" | bc)" -v om="$ok_med" -v og="$ok_gl" 'BEGIN {
  ca = a / hz; cb = b / hz
  printf "sessions %d, media %d s each run\n", n, m
  printf "medsched:   %d/%d sealed, wall %.1f s, CPU %.2f s, %.4f CPU-s per media-s\n", om, n, wa, ca, ca / m
  printf "gst-launch: %d/%d sealed, wall %.1f s, CPU %.2f s, %.4f CPU-s per media-s\n", og, n, wb, cb, cb / m
  printf "ratio medsched/gst-launch CPU: %.2f\n", ca / cb
  printf "=> real-time sessions per core (one 720p H.264 track): medsched %.0f, gst-launch %.0f\n", m / ca, m / cb
}'
