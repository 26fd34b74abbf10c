/* thread — starting helper threads that never take the process's signals.
 *
 * Signals belong to the main thread: its handlers set the flags its loop
 * reads. A helper thread (the HTTP server) starts with every
 * signal blocked so a SIGTERM can never land in it. */
#ifndef CDC_THREAD_H
#define CDC_THREAD_H

#include <pthread.h>

/* pthread_create with every signal blocked in the new thread; 0 or errno. */
int cdc_thread_start(pthread_t *thread, void *(*run)(void *), void *arg);

#endif
