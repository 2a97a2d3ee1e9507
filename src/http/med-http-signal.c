/* med-http-signal.c — WebSocket signalling for WebRTC calls (docs/webrtc.md).
 * Being written; empty until then. */
#include "med-http-private.h"
