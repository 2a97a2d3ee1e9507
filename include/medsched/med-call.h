/* med-call.h — a remote session's WebRTC call: one webrtcbin per
 * participant inside one pipeline per booking (docs/webrtc.md). Being
 * written. */
#pragma once

#include <medsched/med-media.h>
