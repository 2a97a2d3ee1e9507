/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-threads.h — runs one check in many threads at once, for the tests
 * of code that must be safe to call concurrently. */
#pragma once

#include <glib.h>

/* Starts n threads of fn (its argument: the thread's number) and returns
 * how many returned non-NULL (failed). */
static inline guint
run_threads (GThreadFunc fn, guint n)
{
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  guint failed = 0;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (threads,
        g_thread_new ("test", fn, GUINT_TO_POINTER (i)));
  for (guint i = 0; i < n; i++)
    failed += g_thread_join (g_ptr_array_index (threads, i)) != NULL;
  return failed;
}
