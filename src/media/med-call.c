/* med-call.c — WebRTC calls (see include/medsched/med-call.h). Being
 * written; empty until then. */
#include <medsched/med-call.h>
