/*
 * hearbackd.c: start-up, signals, shutdown. The main (libevent) thread.
 *
 * A record's path, from the inbox to the SMTP reply and back, is eight
 * files, this one included; read them in this order:
 *
 *   daemon/intake.c      takes each entry read from the inbox (a consumer
 *                        group: intake_read.c), checks it (record_parse)
 *                        and hands it on: planned against a snapshot of
 *                        what it touches and committed with its
 *                        acknowledgement (intake_record.c; runs of
 *                        collaborators in a pipeline, intake_run.c); an
 *                        announcement is planned page by page (fanout.c),
 *                        and so is a large meeting (intake_meeting.c,
 *                        meeting_page.c).
 *   daemon/plan.c        what a record stores and which deliveries (emails
 *                        to send, due at a time) it makes: plan_apply,
 *                        handing each type to plan_*.c; meetings are
 *                        planned in meeting.c (each person's emails in
 *                        meeting_email.c).
 *   daemon/store/store.c with its folder, the only code that knows Redis
 *                        keys and scripts: the ops a plan and a settle are
 *                        made of; the calls (call.c) that run commit.lua
 *                        and lease.lua (which runs gate.lua).
 *   daemon/sched.c       leases due deliveries and makes each a job (job.h,
 *                        the one struct that crosses threads; the only
 *                        place one is made); hands it to the worker pool
 *                        (pool.h: batches out, jobs back on the main
 *                        thread), or gives it its verdict at once (expired,
 *                        skipped, untried while stopping).
 *   workers/deliver.c    in a worker thread: builds each email (view.c,
 *                        render.c, compose.c) and sends the batch over one
 *                        session, and the batches that follow it on the
 *                        same connection; turns each SMTP verdict into the
 *                        job's.
 *   workers/sender.c     the SMTP session (relay.c and tunnel.c beneath):
 *                        the reply's class gives the three-way SMTP verdict
 *                        (accepted, temporary, permanent).
 *   hearbackd.c          hearbackd_on_job: a job back from the pool tells
 *                        the scheduler how the relay answered, then
 *   daemon/outcome.c     outcome_settle: the one switch every job ends in,
 *                        whichever road it came by (the pool's, here;
 *                        sched.c's; shutdown's, here), on its one verdict
 *                        (job_set_verdict):
 *                        sent, temporary, permanent, expired, skipped or
 *                        untried.
 *
 * The files in parentheses are read only for their detail (a record's
 * fields, an email's words and MIME, the transport). One delivery never
 * becomes a job: the one a person's choice stops (paused, unsubscribed,
 * consent withdrawn, bouncing) is settled "suppressed" inside the lease
 * call itself (gate.lua), atomically, before anything is handed out.
 *
 * Start-up order: config (exit 78 if bad), logging, libraries that must be
 * initialised before any thread (GMime, jansson's hash seed, libESMTP's
 * auth), templates (exit 78 if broken), the event base, two Redis
 * connections (intake's, and "ops" for everything else), the worker pool,
 * the scheduler, the HTTP listener. READY=1 goes to systemd once both
 * Redis connections are up (Redis answered and accepted who we are); until
 * then STATUS= says why not ("Waiting for Redis: refused by ...: WRONGPASS
 * ..."), and so does /healthz (503). WATCHDOG=1 is sent from a loop timer
 * while the loop turns and either Redis answers or the connection is known
 * to be down (it is being tried again: a restart would not help), so only a
 * wedged daemon is restarted.
 *
 * SIGTERM/SIGINT: stop reading the inbox, stop promoting, give back the
 * leases of jobs no worker has started, let in-flight sends finish and
 * their outcomes reach Redis (up to shutdown_timeout), exit 0.
 * SIGHUP: reload config and templates; a broken new file keeps the old.
 *
 * -t checks what start-up would read (the config, the secret files it
 * names, the CA file, the templates), says "config ok" or what is wrong,
 * and exits 0 or 78 before anything connects or listens. -t, start-up and
 * SIGHUP warn (stderr, the log) when Redis is reached over a network in
 * clear text (config_redis_exposed).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <gmime/gmime.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <systemd/sd-daemon.h>

#include "clock.h"
#include "config.h"
#include "deliver.h"
#include "feedback.h"
#include "http.h"
#include "intake.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "outcome.h"
#include "pool.h"
#include "rconn.h"
#include "retention.h"
#include "sched.h"
#include "sender.h"
#include "store.h"
#include "page.h"
#include "tmpl.h"
#include "version.h"
#include "web.h"

#define HB_EXIT_USAGE	64
#define HB_EXIT_CONFIG	78
#define HB_BATCH	8	/* jobs a worker takes at once (its session goes on
				   with the next batch: [smtp] per_connection) */

struct hearbackd {
	struct event_base	*base;
	char			*path;
	struct config		*cf;
	struct tmplset		*tmpl;
	struct metrics		 m;
	struct rconn		*ops;
	struct intake		*intake;
	struct pool		*pool;
	struct outcome		*out;
	struct sched		*sched;
	struct feedback		*feedback;
	struct retention	*retention;
	struct http		*http;
	struct web		*web;		/* [web] pages, answers summaries */
	struct event		*ev_term, *ev_int, *ev_hup;
	struct event		*tick;		/* status, watchdog, shutdown */
	int			 ready;
	int			 stopping;
	long long		 stop_deadline_ms;
	long long		 last_pong_ms;
	long long		 last_gauges_ms;
	long long		 last_status_ms;
	unsigned long long	 watchdog_usec;
};

/* --help: on stdout, exit 0; a bad command line: on stderr, exit 64. */
static void
usage(int code)
{
	fprintf(code == 0 ? stdout : stderr,
	    "usage: hearbackd [-ftv] [-c FILE]\n"
	    "       hearbackd --help | --version\n"
	    "  -c FILE    the config file (default " CONFIG_DEFAULT_PATH ")\n"
	    "  -f         log to standard error instead of syslog\n"
	    "  -t         check the config, its secret files, the CA file and the\n"
	    "             templates; print \"config ok\" or what is wrong, exit 0\n"
	    "             or 78; connects to nothing\n"
	    "  -v         log debug messages too\n"
	    "  --help     this text\n"
	    "  --version  print the version\n"
	    "See hearbackd(8) and hearback.conf(5).\n");
	exit(code == 0 ? 0 : HB_EXIT_USAGE);
}

/*
 * The templates of cf: the emails', and the pages' when [web] base_url is
 * set (a set without them is refused, as a broken one is: -t, start-up and
 * SIGHUP alike). NULL with e set.
 */
static struct tmplset *
hearbackd_templates(const struct config *cf, struct err *e)
{
	struct tmplset	*t;

	if ((t = tmplset_load_over(cf->templates_dir, cf->templates_shipped,
	    e)) == NULL)
		return NULL;
	if (cf->web_base_url != NULL && page_check(t, e) == -1) {
		tmplset_unref(t);
		return NULL;
	}
	return t;
}

/*
 * -t: load what start-up loads, and the CA file the relay's certificate is
 * checked against (only read when a send starts, so a typo would otherwise
 * show up as held emails). No Redis, no SMTP, no listening socket.
 */
static int
hearbackd_check(const char *path)
{
	struct config	*cf;
	struct tmplset	*t;
	struct err	 e;
	FILE		*f;
	SSL_CTX		*ctx = NULL;
	char		 exposed[512];

	if ((cf = config_load(path, &e)) == NULL) {
		fprintf(stderr, "hearbackd: %s\n", e.msg);
		return HB_EXIT_CONFIG;
	}
	if (cf->smtp_ca_file != NULL) {
		if ((f = fopen(cf->smtp_ca_file, "r")) == NULL) {
			err_set(&e, "%s: [smtp] ca_file: %s: cannot read: %s",
			    path, cf->smtp_ca_file, strerror(errno));
			goto err;
		}
		fclose(f);
		/* As the sender will load it (workers/sender.c). */
		if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
		    SSL_CTX_load_verify_locations(ctx, cf->smtp_ca_file,
		    NULL) != 1) {
			err_set(&e, "%s: [smtp] ca_file: %s: no certificates in "
			    "it", path, cf->smtp_ca_file);
			goto err;
		}
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	if ((t = hearbackd_templates(cf, &e)) == NULL) {
		err_prefix(&e, "%s: [templates] dir", path);
		goto err;
	}
	tmplset_unref(t);
	/* Not an error (a tunnel may be on another layer), but said. */
	if (config_redis_exposed(cf, exposed, sizeof exposed) != NULL)
		fprintf(stderr, "hearbackd: warning: %s\n", exposed);
	config_unref(cf);
	printf("config ok\n");
	return 0;
err:
	fprintf(stderr, "hearbackd: %s\n", e.msg);
	SSL_CTX_free(ctx);
	config_unref(cf);
	return HB_EXIT_CONFIG;
}

static int
hearbackd_health(void *arg, char *why, size_t len)
{
	struct hearbackd	*d = arg;

	if (d->stopping) {
		snprintf(why, len, "shutting down");
		return 0;
	}
	if (!rconn_up(d->ops) || !intake_redis_up(d->intake)) {
		snprintf(why, len, "redis %s", rconn_down_why());
		return 0;
	}
	if (!d->m.smtp_up) {
		snprintf(why, len, "%s", d->m.smtp_why);
		return 0;
	}
	return 1;
}

static void
hearbackd_on_commit(void *arg)
{
	struct hearbackd	*d = arg;

	sched_kick(d->sched);
}

static void
hearbackd_on_job(struct job *job, void *arg)
{
	struct hearbackd	*d = arg;

	if (job->refused)
		sched_refused(d->sched, job->cf, job->reply);
	else if (job->tried)
		sched_relay(d->sched, job->verdict, job->smtp_code);
	outcome_settle(d->out, job);
	d->m.in_flight = pool_pending(d->pool);
	if (!d->stopping)
		sched_kick(d->sched);
}

static void
hearbackd_on_ops(struct rconn *rc, int up, void *arg)
{
	struct hearbackd	*d = arg;

	if (up) {
		outcome_flush(d->out);
		sched_kick(d->sched);
	}
}

/* Gauges for /metrics and STATUS=, one script every few seconds. */
static void
hearbackd_on_gauges(redisAsyncContext *ac, void *r, void *priv)
{
	struct hearbackd	*d = priv;
	struct store_gauges	 g;
	const redisReply	*st;
	size_t			 i;

	if (store_gauges_parse(r, &g) == -1)
		return;
	/* The counters of SPEC 9, from the same stats hash. */
	st = ((redisReply *)r)->element[6];
	for (i = 0; st->type == REDIS_REPLY_ARRAY && i + 1 < st->elements;
	    i += 2)
		if (st->element[i]->type == REDIS_REPLY_STRING &&
		    st->element[i + 1]->type == REDIS_REPLY_STRING)
			metrics_said_back(&d->m, st->element[i]->str,
			    atoll(st->element[i + 1]->str));
	d->m.inbox_backlog = g.inbox_backlog;
	d->m.scheduled = g.scheduled;
	d->m.dead = g.dead;
	d->m.said_open = g.said_open;
	d->m.said_overdue = g.said_overdue;
	store_gauges_clear(&g);
}

static void
hearbackd_on_pong(redisAsyncContext *ac, void *r, void *priv)
{
	struct hearbackd	*d = priv;
	redisReply		*reply = r;

	if (reply != NULL && reply->type != REDIS_REPLY_ERROR)
		d->last_pong_ms = util_now_ms();
}

static void
hearbackd_gauges(struct hearbackd *d)
{
	rconn_cmdf(d->ops, hearbackd_on_pong, d, "PING");
	store_gauges(d->ops, d->cf->prefix, util_now_ms() -
	    d->cf->feedback_due * 1000, hearbackd_on_gauges, d);
}

static void
hearbackd_tick(evutil_socket_t fd, short what, void *arg)
{
	struct hearbackd	*d = arg;
	long long		 now = util_now_ms();
	int			 up = intake_redis_up(d->intake) &&
	    rconn_up(d->ops);

	d->m.redis_up = up;
	d->m.in_flight = pool_pending(d->pool);
	if (!d->ready && up) {
		char	where[300];

		d->ready = 1;
		d->last_pong_ms = now;
		sd_notify(0, "READY=1\nSTATUS=Taking records from Redis");
		log_info("ready: redis %s, smtp %s:%d, %d workers",
		    config_redis_where(d->cf, where, sizeof where),
		    d->cf->smtp_host, d->cf->smtp_port, d->cf->workers);
	}
	if (now - d->last_gauges_ms >= 2000 && up) {
		d->last_gauges_ms = now;
		hearbackd_gauges(d);
	}
	/* Fed while Redis answers us, or while we know it does not and keep
	 * trying: a restart mends neither. A connection that says it is up
	 * but gets no answer is what a restart is for. */
	if (!up)
		d->last_pong_ms = now;
	if (d->watchdog_usec > 0 &&
	    now - d->last_pong_ms < (long long)(d->watchdog_usec / 1000))
		sd_notify(0, "WATCHDOG=1");
	if (!d->stopping && now - d->last_status_ms >= 1000) {
		char	why[600] = "";

		d->last_status_ms = now;
		if (!up)
			snprintf(why, sizeof why, "redis %s", rconn_down_why());
		if (!d->ready)
			sd_notifyf(0, "STATUS=Waiting for Redis: %s", why);
		else if (!up)
			sd_notifyf(0, "STATUS=Redis down: %s; inbox %lld, "
			    "scheduled %lld, in flight %d, dead %lld", why,
			    d->m.inbox_backlog, d->m.scheduled,
			    d->m.in_flight, d->m.dead);
		else
			sd_notifyf(0, "STATUS=Running; inbox %lld, scheduled "
			    "%lld, in flight %d, dead %lld",
			    d->m.inbox_backlog, d->m.scheduled,
			    d->m.in_flight, d->m.dead);
	}
	if (d->stopping) {
		int	left = pool_pending(d->pool) + outcome_pending(d->out) +
		    sched_busy(d->sched) + !intake_idle(d->intake);

		/* Outcomes not yet in Redis would mean sending again:
		 * wait for them (Redis may come back) until the deadline. */
		if (left == 0) {
			event_base_loopexit(d->base, NULL);
			return;
		}
		if (now >= d->stop_deadline_ms) {
			log_warnx("shutdown: %d emails still in flight after %llds;"
			    " their leases expire and they are sent again later",
			    pool_pending(d->pool),
			    d->cf->shutdown_timeout);
			sd_notify(0, "STATUS=Stopped with sends in flight");
			_exit(0);
		}
	}
}

static void
hearbackd_stop(struct hearbackd *d)
{
	struct jobq	 q;
	struct job	*job;

	if (d->stopping)
		return;
	d->stopping = 1;
	d->stop_deadline_ms = util_now_ms() + d->cf->shutdown_timeout * 1000;
	sd_notify(0, "STOPPING=1\nSTATUS=Finishing the emails in flight");
	log_info("stopping: finishing %d emails in flight",
	    pool_pending(d->pool));
	intake_stop(d->intake);
	sched_stop(d->sched);
	feedback_stop(d->feedback);
	retention_stop(d->retention);
	STAILQ_INIT(&q);
	pool_reclaim(d->pool, &q);
	while ((job = STAILQ_FIRST(&q)) != NULL) {
		STAILQ_REMOVE_HEAD(&q, entry);
		job_set_verdict(job, JOB_UNTRIED, NULL);
		outcome_settle(d->out, job);
	}
}

static void
hearbackd_reload(struct hearbackd *d)
{
	struct config	*cf;
	struct tmplset	*t;
	struct err	 e;
	char		 exposed[512];

	if ((cf = config_load(d->path, &e)) == NULL) {
		log_warnx("reload: keeping the old configuration: %s", e.msg);
		return;
	}
	if ((t = hearbackd_templates(cf, &e)) == NULL) {
		log_warnx("reload: keeping the old configuration and templates: "
		    "%s", e.msg);
		config_unref(cf);
		return;
	}
	tmplset_unref(d->tmpl);
	d->tmpl = t;
	sched_set_templates(d->sched, t);
	config_unref(d->cf);
	d->cf = cf;
	intake_set_config(d->intake, cf);
	sched_set_config(d->sched, cf);
	outcome_set_config(d->out, cf);
	feedback_set_config(d->feedback, cf);
	retention_set_config(d->retention, cf);
	rconn_set_config(d->ops, cf);
	if (d->web != NULL) {
		web_set_config(d->web, cf);
		web_set_templates(d->web, t);
	}
	log_setverbose(log_getverbose());
	log_info("reloaded %s and the templates in %s", d->path,
	    cf->templates_dir);
	if (config_redis_exposed(cf, exposed, sizeof exposed) != NULL)
		log_warnx("%s", exposed);
}

static void
hearbackd_signal(evutil_socket_t sig, short what, void *arg)
{
	struct hearbackd	*d = arg;

	if (sig == SIGHUP)
		hearbackd_reload(d);
	else
		hearbackd_stop(d);
}

/* The event base and everything on it: Redis, the pool, the scheduler,
 * intake, feedback, retention, the HTTP listener and web, the signals and
 * the tick. -1 (e says why) if a listener cannot start. */
static int
hearbackd_start(struct hearbackd *d, struct err *e)
{
	struct timeval	 tv = { 0, 250 * 1000 };
	char		 exposed[512];

	if ((d->base = event_base_new()) == NULL)
		fatalx("cannot create the event base");
	d->m.started_ms = util_now_ms();
	d->ops = rconn_new(d->base, d->cf, "ops", hearbackd_on_ops, d);
	d->pool = pool_new(d->base, d->cf->workers, HB_BATCH, deliver_work,
	    hearbackd_on_job, d);
	d->out = outcome_new(d->base, d->cf, d->ops, &d->m, NULL, NULL);
	d->sched = sched_start(d->base, d->cf, d->ops, d->pool, d->out,
	    &d->m);
	sched_set_templates(d->sched, d->tmpl);
	d->intake = intake_start(d->base, d->cf, &d->m, hearbackd_on_commit,
	    d);
	d->feedback = feedback_start(d->base, d->cf, d->ops,
	    hearbackd_on_commit, d);
	d->retention = retention_start(d->base, d->cf, d->ops);
	if (d->cf->http_host[0] != '\0' && (d->http = http_start(d->base,
	    d->cf->http_host, d->cf->http_port, &d->m, hearbackd_health, d,
	    e)) == NULL)
		return -1;
	if ((d->cf->web_base_url != NULL || d->cf->inbound_address != NULL) &&
	    (d->web = web_start(d->base, d->cf, d->tmpl, d->ops,
	    e)) == NULL)
		return -1;
	d->ev_term = evsignal_new(d->base, SIGTERM, hearbackd_signal, d);
	d->ev_int = evsignal_new(d->base, SIGINT, hearbackd_signal, d);
	d->ev_hup = evsignal_new(d->base, SIGHUP, hearbackd_signal, d);
	evsignal_add(d->ev_term, NULL);
	evsignal_add(d->ev_int, NULL);
	evsignal_add(d->ev_hup, NULL);
	d->tick = event_new(d->base, -1, EV_PERSIST, hearbackd_tick, d);
	evtimer_add(d->tick, &tv);
	log_info("hearbackd starting (config %s)", d->path);
	if (config_redis_exposed(d->cf, exposed, sizeof exposed))
		log_warnx("%s", exposed);
	return 0;
}

/* After the loop: everything hearbackd_start made, in order. */
static void
hearbackd_free(struct hearbackd *d)
{
	log_info("stopped");
	pool_free(d->pool);
	http_free(d->http);
	intake_free(d->intake);
	rconn_free(d->ops);
	web_free(d->web);	/* after ops: its callbacks run as it goes */
	feedback_free(d->feedback);
	retention_free(d->retention);
	sched_free(d->sched);
	outcome_free(d->out);
	event_free(d->tick);
	event_free(d->ev_term);
	event_free(d->ev_int);
	event_free(d->ev_hup);
	event_base_free(d->base);
	tmplset_unref(d->tmpl);
	config_unref(d->cf);
}

int
main(int argc, char *argv[])
{
	struct hearbackd	 d;
	struct err		 e;
	int			 ch, fg = 0, verbose = 0, check = 0;
	uint64_t		 wd = 0;

	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 }
	};

	memset(&d, 0, sizeof d);
	d.path = CONFIG_DEFAULT_PATH;
	while ((ch = getopt_long(argc, argv, "c:fhtv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.path = optarg;
			break;
		case 'f':
			fg = 1;
			break;
		case 'h':
			usage(0);
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("hearbackd %s\n", HB_VERSION);
			return 0;
		default:
			usage(HB_EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(HB_EXIT_USAGE);
	if (check) {
		log_init(1, verbose, "hearbackd");
		g_mime_init();
		clock_init();
		ch = hearbackd_check(d.path);
		g_mime_shutdown();
		return ch;
	}
	log_init(fg || getenv("INVOCATION_ID") != NULL, verbose, "hearbackd");
	g_mime_init();
	clock_init();
	if ((d.cf = config_load(d.path, &e)) == NULL) {
		fprintf(stderr, "hearbackd: %s\n", e.msg);
		return HB_EXIT_CONFIG;
	}
	if ((d.tmpl = hearbackd_templates(d.cf, &e)) == NULL) {
		fprintf(stderr, "hearbackd: %s\n", e.msg);
		return HB_EXIT_CONFIG;
	}
	json_object_seed(0);
	sender_init();
	signal(SIGPIPE, SIG_IGN);
	if (sd_watchdog_enabled(0, &wd) > 0)
		d.watchdog_usec = wd;

	if (hearbackd_start(&d, &e) == -1) {
		fprintf(stderr, "hearbackd: %s\n", e.msg);
		return HB_EXIT_CONFIG;
	}

	event_base_dispatch(d.base);

	hearbackd_free(&d);
	g_mime_shutdown();
	return 0;
}
