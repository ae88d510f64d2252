/*
 * internal.h - what the test library's files share and tests do not use.
 */
#ifndef PCTEST_INTERNAL_H
#define PCTEST_INTERNAL_H

#include "pctest.h"

/* The test process (pt_init); children forked from it differ. */
extern pid_t pt__main_pid;

/* In a child about to exec: no signal blocked, SIGALRM and SIGPIPE back to
 * their defaults, no alarm pending. */
void pt__exec_prep(void);

/* The daemons the backstop shows and stops (daemon.c). */
void pt__daemon_add(pt_daemon *d);
void pt__daemon_remove(pt_daemon *d);
/* In a forked child: the parent's daemons are not its own. */
void pt__daemons_forget(void);
/* From the backstop alarm: kill every registered daemon, show its log,
 * remove the directories pt_daemon_new made. */
void pt__daemons_backstop(void);
/* Kill the test's MariaDB servers and remove their directories (mariadb.c). */
void pt__mariadb_backstop(void);

#endif
