/*
 * redis_fixture.c: a real redis-server for the unit tests that need one.
 *
 * redis_fixture_start() starts one on a free loopback port in a temporary
 * directory (no persistence) and connects; it is killed at the end, also
 * when a test fails (atexit). Without redis-server on PATH nothing starts
 * and the tests skip. One server per test binary, on the test's thread.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "redis_fixture.h"

static pid_t		 redis_fixture_pid = -1;
static char		 redis_fixture_dir[64];
static redisContext	*redis_fixture_ctx;

void
redis_fixture_stop(void)
{
	char	path[128];

	if (redis_fixture_ctx != NULL) {
		redisFree(redis_fixture_ctx);
		redis_fixture_ctx = NULL;
	}
	if (redis_fixture_pid > 0) {
		kill(redis_fixture_pid, SIGKILL);
		waitpid(redis_fixture_pid, NULL, 0);
		redis_fixture_pid = -1;
	}
	if (redis_fixture_dir[0] != '\0') {
		snprintf(path, sizeof path, "%s/redis.log", redis_fixture_dir);
		unlink(path);
		rmdir(redis_fixture_dir);
		redis_fixture_dir[0] = '\0';
	}
}

static int
redis_fixture_free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			s, port;

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) == -1) {
		close(s);
		return -1;
	}
	port = ntohs(sin.sin_port);
	close(s);
	return port;
}

/* The server, in the child: never returns. */
static void
redis_fixture_exec(const char *port, const char *log)
{
	int	fd;

	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execlp("redis-server", "redis-server", "--port", port, "--bind",
	    "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
	    redis_fixture_dir, "--logfile", log, "--daemonize", "no",
	    (char *)NULL);
	_exit(127);
}

/* Connect, waiting up to 5 s for the server to answer PING. */
static redisContext *
redis_fixture_connect(int port)
{
	struct timeval	 tv = { 1, 0 };
	redisContext	*c;
	redisReply	*r;
	int		 i, ok;

	for (i = 0; i < 100; i++) {
		if ((c = redisConnectWithTimeout("127.0.0.1", port, tv)) !=
		    NULL && c->err == 0) {
			r = redisCommand(c, "PING");
			ok = r != NULL && r->type == REDIS_REPLY_STATUS;
			if (r != NULL)
				freeReplyObject(r);
			if (ok)
				return c;
		}
		if (c != NULL)
			redisFree(c);
		usleep(50000);
	}
	return NULL;
}

redisContext *
redis_fixture_start(const char *name)
{
	char	port[16], log[128];
	int	p;

	if (system("command -v redis-server >/dev/null 2>&1") != 0)
		return NULL;
	snprintf(redis_fixture_dir, sizeof redis_fixture_dir,
	    "/tmp/hb-test-%s-XXXXXX", name);
	if (mkdtemp(redis_fixture_dir) == NULL) {
		redis_fixture_dir[0] = '\0';
		return NULL;
	}
	atexit(redis_fixture_stop);
	if ((p = redis_fixture_free_port()) == -1)
		goto err;
	snprintf(port, sizeof port, "%d", p);
	snprintf(log, sizeof log, "%s/redis.log", redis_fixture_dir);
	if ((redis_fixture_pid = fork()) == -1)
		goto err;
	if (redis_fixture_pid == 0)
		redis_fixture_exec(port, log);
	if ((redis_fixture_ctx = redis_fixture_connect(p)) == NULL)
		goto err;
	return redis_fixture_ctx;
err:
	redis_fixture_stop();
	return NULL;
}

redisContext *
redis_fixture_rc(void)
{
	return redis_fixture_ctx;
}

int
redis_fixture_each(void **state)
{
	redisReply	*r;

	if (redis_fixture_ctx == NULL)
		return 0;
	if ((r = redisCommand(redis_fixture_ctx, "FLUSHALL")) == NULL)
		return -1;
	freeReplyObject(r);
	return 0;
}
