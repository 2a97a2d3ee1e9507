/* med-store-pg.c — the PostgreSQL driver (placeholder until the driver
 * lands). */
#define G_LOG_DOMAIN "medsched-store"

#include "med-store-private.h"

const StoreDriver store_pg_driver = { .name = "postgresql" };

MedStore *
store_pg_open (const char *url, gboolean create, GError **error)
{
  g_set_error (error, MED_STORE_ERROR, MED_STORE_ERROR_OPEN,
      "PostgreSQL stores are not built in");
  return NULL;
}
