/*
 * smtp_alone.c: hearbackd's SMTP layer alone, for tests/bench/fanout.py.
 *
 *     build/tests/smtp_alone PORT N THREADS FILE...
 *
 * Sends N messages into 127.0.0.1:PORT the way hearbackd's workers do
 * (sender.c over libESMTP: THREADS threads, each taking batches of
 * SMTP_ALONE_BATCH messages, a session carrying batches up to [smtp]
 * per_connection), with every message built beforehand: the FILEs (LF line
 * ends, as fanout.py writes them for smtp-source -F), one after another.
 * No Redis, no GMime, no templates: what is left is libESMTP's session,
 * the system calls and the threads. fanout.py prints it beside the fan-out
 * and smtp-source, as the ceiling of the fan-out with this SMTP layer.
 *
 * Prints one line: "N sent, SECONDS s, CPU_MS ms cpu" (the CPU of the whole
 * process, every thread). Exits 1 if any message is not accepted.
 *
 * Threads: each sender thread owns its session and its batch; the only
 * shared state is the counters, under `lock`.
 */
#include <sys/resource.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "sender.h"
#include "util.h"

#define SMTP_ALONE_BATCH	8	/* as hearbackd.c's HB_BATCH */

struct alone {
	const struct config	*cf;
	char			**texts;
	int			 ntexts;
	pthread_mutex_t		 lock;
	long			 next;		/* messages handed out */
	long			 n;		/* messages to send */
	long			 sent;
	long			 failed;
};

/* One batch's worth of messages, up to SMTP_ALONE_BATCH; 0 when all are
 * handed out. */
static int
alone_take(struct alone *a, struct outmsg *m)
{
	long	first, i;
	int	k;

	pthread_mutex_lock(&a->lock);
	if (a->failed > 0)
		a->next = a->n;		/* broken: stop at once */
	first = a->next;
	k = a->n - first < SMTP_ALONE_BATCH ? (int)(a->n - first) :
	    SMTP_ALONE_BATCH;
	a->next += k;
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < k; i++) {
		memset(&m[i], 0, sizeof m[i]);
		m[i].rcpt = "p@example.org";
		m[i].text = a->texts[(first + i) % a->ntexts];
	}
	return k;
}

struct worker {
	struct alone	*a;
	struct outmsg	 m[2][SMTP_ALONE_BATCH];
	int		 cur;
};

static int
alone_more(void *arg, int max, struct outmsg **m, void **tag)
{
	struct worker	*w = arg;
	int		 k;

	(void)max;
	w->cur ^= 1;	/* the other array: the last one is done already */
	k = alone_take(w->a, w->m[w->cur]);
	*m = w->m[w->cur];
	*tag = NULL;
	return k;
}

static void
alone_done(void *arg, struct outmsg *m, int n, void *tag)
{
	struct worker	*w = arg;
	int		 i, ok = 0;

	(void)tag;
	for (i = 0; i < n; i++)
		if (m[i].verdict == VERDICT_OK)
			ok++;
	pthread_mutex_lock(&w->a->lock);
	w->a->sent += ok;
	w->a->failed += n - ok;
	pthread_mutex_unlock(&w->a->lock);
}

static void *
alone_thread(void *arg)
{
	struct worker		 w;
	struct sender_feed	 feed;
	int			 k;

	memset(&w, 0, sizeof w);
	w.a = arg;
	feed.more = alone_more;
	feed.done = alone_done;
	feed.arg = &w;
	feed.max = w.a->cf->smtp_per_connection;
	while ((k = alone_take(w.a, w.m[w.cur])) > 0)
		sender_session(w.a->cf, w.m[w.cur], k, NULL, &feed);
	return NULL;
}

/* A file with LF line ends as a message with CRLF ones. */
static char *
alone_read(const char *path)
{
	struct buf	 b;
	FILE		*f;
	int		 c;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		exit(2);
	}
	buf_init(&b);
	while ((c = getc(f)) != EOF) {
		if (c == '\n')
			buf_addc(&b, '\r');
		if (c != '\r')
			buf_addc(&b, (char)c);
	}
	fclose(f);
	return buf_take(&b);
}

static double
alone_cpu_ms(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

int
main(int argc, char **argv)
{
	struct alone	 a;
	struct config	*cf;
	struct timespec	 t0, t1;
	pthread_t	*th;
	double		 cpu0;
	int		 i, nth;

	if (argc < 5) {
		fprintf(stderr, "usage: smtp_alone PORT N THREADS FILE...\n");
		return 2;
	}
	cf = config_default();
	free(cf->smtp_host);
	cf->smtp_host = xstrdup("127.0.0.1");
	cf->smtp_port = atoi(argv[1]);
	cf->smtp_tls = CONFIG_TLS_NONE;		/* loopback, as fanout.py's */
	free(cf->from_addr);
	cf->from_addr = xstrdup("forum@example.org");
	memset(&a, 0, sizeof a);
	a.cf = cf;
	a.n = atol(argv[2]);
	nth = atoi(argv[3]);
	if (nth < 1 || a.n < 1) {
		fprintf(stderr, "smtp_alone: N and THREADS must be 1 or more\n");
		return 2;
	}
	a.ntexts = argc - 4;
	a.texts = xcalloc(a.ntexts, sizeof *a.texts);
	for (i = 0; i < a.ntexts; i++)
		a.texts[i] = alone_read(argv[4 + i]);
	pthread_mutex_init(&a.lock, NULL);
	sender_init();

	th = xcalloc(nth, sizeof *th);
	cpu0 = alone_cpu_ms();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nth; i++)
		if (pthread_create(&th[i], NULL, alone_thread, &a) != 0) {
			fprintf(stderr, "smtp_alone: cannot start a thread\n");
			return 2;
		}
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%ld sent, %.3f s, %.0f ms cpu\n", a.sent,
	    (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    alone_cpu_ms() - cpu0);
	if (a.failed > 0)
		fprintf(stderr, "smtp_alone: %ld not accepted\n", a.failed);

	sender_exit();
	for (i = 0; i < a.ntexts; i++)
		free(a.texts[i]);
	free(a.texts);
	free(th);
	config_unref(cf);
	return a.failed > 0 ? 1 : 0;
}
