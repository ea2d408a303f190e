/*
 * redis_fixture.h: a real redis-server for the unit tests that run the
 * Lua scripts (test_store.c, test_mpage.c; the Makefile links
 * redis_fixture.c into those). See redis_fixture.c.
 */
#ifndef HB_REDIS_FIXTURE_H
#define HB_REDIS_FIXTURE_H

#include <stdio.h>

#include <hiredis/hiredis.h>

/* Start redis-server for this test binary (name goes into its temporary
 * directory's name) and connect: the connection, or NULL when there is no
 * redis-server or it did not answer (the tests skip: NEED_REDIS). */
redisContext	*redis_fixture_start(const char *name);
/* The connection, or NULL. */
redisContext	*redis_fixture_rc(void);
/* Kill the server and remove its directory (also at exit). */
void		 redis_fixture_stop(void);
/* A cmocka setup for each test: start from an empty database. */
int		 redis_fixture_each(void **state);

/* In a test (after cmocka.h): skip it without a server. */
#define NEED_REDIS() do {						\
	if (redis_fixture_rc() == NULL) {				\
		fprintf(stderr, "redis-server not available: skipped\n");	\
		skip();							\
	}								\
} while (0)

#endif
