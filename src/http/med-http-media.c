/* med-http-media.c — recordings over HTTP and pipelines at booking times.
 * Being written; empty until then. */
#include "med-http-private.h"
