/*
 * config_key.c: each key of each section of the INI file (SPEC section 7):
 * which keys a section has, and what each value may be (durations,
 * addresses, listen addresses, time zones, the Redis prefix, TLS modes,
 * the base URL of the pages...). A wrong value is refused with what is
 * wrong; config.c adds the file, the line and the key. Called by config.c's
 * inih handler while a config is loaded, on whichever thread loads it (the
 * main thread, at start and on SIGHUP; the command); touches only the
 * struct config being built.
 */
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "address.h"
#include "clock.h"
#include "config_impl.h"
#include "duration.h"


static int
config_int(const char *v, long min, long max, int *out, struct err *e)
{
	char	*end;
	long	 n;

	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || n < min || n > max)
		return err_set(e, "\"%s\" is not a whole number from %ld to %ld",
		    v, min, max);
	*out = (int)n;
	return 0;
}

static int
config_duration(const char *v, long long min, long long *out, struct err *e)
{
	if (duration_parse(v, out, e) == -1)
		return -1;
	if (*out < min)
		return err_set(e, "\"%s\" is too short", v);
	return 0;
}

/* "127.0.0.1:9187", "[::1]:9187", or "" (disabled), into hostp and portp. */
static int
config_listen(char **hostp, int *portp, const char *v, struct err *e)
{
	const char	*colon;
	char		 host[128];
	size_t		 hl;

	if (*v == '\0') {
		config_setstr(hostp, "");
		return 0;
	}
	if ((colon = strrchr(v, ':')) == NULL)
		return err_set(e, "\"%s\" is not host:port", v);
	hl = colon - v;
	if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
		v++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof host)
		return err_set(e, "\"%s\" is not host:port", v);
	memcpy(host, v, hl);
	host[hl] = '\0';
	if (config_int(colon + 1, 1, 65535, portp, e) == -1)
		return -1;
	config_setstr(hostp, host);
	return 0;
}

static int
config_from(struct config *cf, const char *v, struct err *e)
{
	char	*name = NULL, *addr = NULL;
	const char *at;

	if (address_parse_mailbox(v, &name, &addr, e) == -1)
		return -1;
	config_setstr(&cf->from, v);
	free(cf->from_name);
	free(cf->from_addr);
	cf->from_name = name;
	cf->from_addr = addr;
	at = strrchr(addr, '@');
	config_setstr(&cf->from_domain, at ? at + 1 : "localhost");
	return 0;
}

/* A string that must not be empty. */
static int
config_nonempty(char **dst, const char *v, struct err *e)
{
	if (*v == '\0')
		return err_set(e, "must not be empty");
	config_setstr(dst, v);
	return 0;
}

/* A string that may be empty, meaning none (NULL). */
static void
config_optstr(char **dst, const char *v)
{
	free(*dst);
	*dst = *v ? xstrdup(v) : NULL;
}

/* [redis] prefix: letters, digits, . _ -; at most 64. */
static int
config_prefix(struct config *cf, const char *v, struct err *e)
{
	const char	*p;

	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' &&
		    *p != '.')
			break;
	if (*v == '\0' || *p != '\0' || strlen(v) > 64)
		return err_set(e, "\"%s\" is not a prefix (letters, digits, "
		    ". _ -)", v);
	config_setstr(&cf->prefix, v);
	return 0;
}

static int
config_tls(struct config *cf, const char *v, struct err *e)
{
	if (strcmp(v, "starttls") == 0)
		cf->smtp_tls = CONFIG_TLS_STARTTLS;
	else if (strcmp(v, "tls") == 0)
		cf->smtp_tls = CONFIG_TLS_TLS;	/* workers/tunnel.c */
	else if (strcmp(v, "none") == 0)
		cf->smtp_tls = CONFIG_TLS_NONE;
	else
		return err_set(e, "\"%s\" is not one of starttls, tls, none",
		    v);
	return 0;
}

static int
config_timezone(struct config *cf, const char *v, struct err *e)
{
	if (!clock_tz_valid(v))
		return err_set(e, "\"%s\" is not a known time zone", v);
	config_setstr(&cf->timezone, v);
	return 0;
}

/* [delivery] reminders: a list of leads, each more than 0. */
static int
config_reminders(struct config *cf, const char *v, struct err *e)
{
	int	i;

	if (duration_parse_list(v, cf->reminders, CONFIG_MAX_LEADS,
	    &cf->nreminders, e) == -1)
		return -1;
	for (i = 0; i < cf->nreminders; i++)
		if (cf->reminders[i] <= 0)
			return err_set(e, "a reminder lead must be more "
			    "than 0");
	return 0;
}

static int
config_coordinator(struct config *cf, const char *v, struct err *e)
{
	if (address_check(v, e) == -1)
		return -1;
	config_setstr(&cf->coordinator, v);
	return 0;
}

static int
config_record_bytes(struct config *cf, const char *v, struct err *e)
{
	int	n;

	if (config_int(v, 256, 16 * 1024 * 1024, &n, e) == -1)
		return -1;
	cf->max_record_bytes = n;
	return 0;
}

/*
 * One key of each section: 1 when the section has the key (e->msg set if
 * its value is wrong), 0 when it does not.
 */
static int
config_redis(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	struct config	*cf = c->cf;

	if (strcmp(key, "host") == 0)
		config_nonempty(&cf->redis_host, v, e);
	else if (strcmp(key, "port") == 0)
		config_int(v, 1, 65535, &cf->redis_port, e);
	else if (strcmp(key, "socket") == 0)
		config_optstr(&cf->redis_socket, v);
	else if (strcmp(key, "user") == 0)
		config_optstr(&cf->redis_user, v);
	else if (strcmp(key, "tunnel") == 0) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
			err_set(e, "\"%s\" is not yes or no", v);
		cf->redis_tunnel = strcmp(v, "yes") == 0;
	} else if (strcmp(key, "password_file") == 0) {
		config_setstr(&c->redis_password_file, v);
		c->pw_user = c->user_file;
	} else if (strcmp(key, "prefix") == 0)
		config_prefix(cf, v, e);
	else
		return 0;
	return 1;
}

static int
config_smtp(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	struct config	*cf = c->cf;

	if (strcmp(key, "host") == 0)
		config_nonempty(&cf->smtp_host, v, e);
	else if (strcmp(key, "port") == 0)
		config_int(v, 1, 65535, &cf->smtp_port, e);
	else if (strcmp(key, "tls") == 0)
		config_tls(cf, v, e);
	else if (strcmp(key, "ca_file") == 0)
		config_optstr(&cf->smtp_ca_file, v);
	else if (strcmp(key, "user") == 0)
		config_optstr(&cf->smtp_user, v);
	else if (strcmp(key, "password_file") == 0)
		config_setstr(&c->smtp_password_file, v);
	else if (strcmp(key, "from") == 0)
		config_from(cf, v, e);
	else if (strcmp(key, "workers") == 0)
		config_int(v, 1, 64, &cf->workers, e);
	else if (strcmp(key, "per_connection") == 0)
		config_int(v, 1, 10000, &cf->smtp_per_connection, e);
	else
		return 0;
	return 1;
}

static int
config_delivery(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	struct config	*cf = c->cf;

	if (strcmp(key, "timezone") == 0)
		config_timezone(cf, v, e);
	else if (strcmp(key, "reminders") == 0)
		config_reminders(cf, v, e);
	else if (strcmp(key, "min_notice") == 0)
		config_duration(v, 0, &cf->min_notice, e);
	else if (strcmp(key, "quiet_hours") == 0)
		clock_parse_quiet(v, &cf->quiet_start, &cf->quiet_end, e);
	else if (strcmp(key, "retry_min") == 0)
		config_duration(v, 1, &cf->retry_min, e);
	else if (strcmp(key, "retry_max") == 0)
		config_duration(v, 1, &cf->retry_max, e);
	else if (strcmp(key, "max_age") == 0)
		config_duration(v, 1, &cf->max_age, e);
	else if (strcmp(key, "lease") == 0)
		config_duration(v, 5, &cf->lease, e);
	else if (strcmp(key, "feedback_due") == 0)
		config_duration(v, 1, &cf->feedback_due, e);
	else
		return 0;
	return 1;
}

static int
config_notify(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	if (strcmp(key, "coordinator") == 0)
		config_coordinator(c->cf, v, e);
	else if (strcmp(key, "digest_every") == 0)
		config_duration(v, 1, &c->cf->digest_every, e);
	else
		return 0;
	return 1;
}

static int
config_retention(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	if (strcmp(key, "audit") == 0)
		config_duration(v, 1, &c->cf->retention_audit, e);
	else if (strcmp(key, "dead") == 0)
		config_duration(v, 1, &c->cf->retention_dead, e);
	else
		return 0;
	return 1;
}

static int
config_templates(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	if (strcmp(key, "dir") == 0)
		config_nonempty(&c->cf->templates_dir, v, e);
	else if (strcmp(key, "shipped") == 0)
		config_setstr(&c->cf->templates_shipped, v);
	else
		return 0;
	return 1;
}

static int
config_http(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	if (strcmp(key, "listen") != 0)
		return 0;
	config_listen(&c->cf->http_host, &c->cf->http_port, v, e);
	return 1;
}

/* [web] base_url: "" (off), https://host[:port][/path], or http:// for a
 * loopback host (tests). Kept without a trailing slash. */
static int
config_base_url(struct config *cf, const char *v, struct err *e)
{
	const char	*rest, *end;
	char		 host[256];
	size_t		 len, hl;

	if (*v == '\0') {
		free(cf->web_base_url);
		cf->web_base_url = NULL;
		return 0;
	}
	if (strncmp(v, "https://", 8) == 0)
		rest = v + 8;
	else if (strncmp(v, "http://", 7) == 0)
		rest = v + 7;
	else
		return err_set(e, "\"%s\" is not an https:// address", v);
	for (end = rest; *end; end++)
		if ((unsigned char)*end <= ' ' || *end == '"' || *end == '<' ||
		    *end == '>' || *end == '?' || *end == '#' || *end == '\\')
			return err_set(e, "\"%s\" is not a plain address "
			    "(no spaces, query or fragment)", v);
	hl = strcspn(rest, "/");
	if (hl > 1 && rest[0] == '[' && memchr(rest, ']', hl) != NULL)
		hl = (const char *)memchr(rest, ']', hl) - rest + 1;
	else
		hl = strcspn(rest, ":/");
	if (hl == 0 || hl >= sizeof host)
		return err_set(e, "\"%s\" has no host", v);
	memcpy(host, rest, hl);
	host[hl] = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, hl);
		host[strlen(host) - 1] = '\0';
	}
	if (v[4] == ':' && !config_is_loopback(host))
		return err_set(e, "\"%s\": http:// is only allowed for a "
		    "loopback host; use https://", v);
	config_setstr(&cf->web_base_url, v);
	len = strlen(cf->web_base_url);
	while (len > 0 && cf->web_base_url[len - 1] == '/')
		cf->web_base_url[--len] = '\0';
	return 0;
}

static int
config_web(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	if (strcmp(key, "listen") == 0)
		config_listen(&c->cf->web_host, &c->cf->web_port, v, e);
	else if (strcmp(key, "base_url") == 0)
		config_base_url(c->cf, v, e);
	else if (strcmp(key, "key_file") == 0)
		config_setstr(&c->web_key_file, v);
	else
		return 0;
	return 1;
}

static int
config_inbound(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	if (strcmp(key, "address") != 0)
		return 0;
	if (*v == '\0') {
		free(c->cf->inbound_address);
		c->cf->inbound_address = NULL;
	} else if (address_check(v, e) == 0)
		config_setstr(&c->cf->inbound_address, v);
	return 1;
}

static int
config_daemon(struct config_load_ctx *c, const char *key, const char *v,
    struct err *e)
{
	if (strcmp(key, "shutdown_timeout") == 0)
		config_duration(v, 1, &c->cf->shutdown_timeout, e);
	else if (strcmp(key, "max_record_bytes") == 0)
		config_record_bytes(c->cf, v, e);
	else
		return 0;
	return 1;
}

static const struct {
	const char	*name;
	int		(*key)(struct config_load_ctx *, const char *,
			    const char *, struct err *);
} config_sections[] = {
	{ "redis", config_redis },
	{ "smtp", config_smtp },
	{ "delivery", config_delivery },
	{ "notify", config_notify },
	{ "templates", config_templates },
	{ "http", config_http },
	{ "daemon", config_daemon },
	{ "retention", config_retention },
	{ "web", config_web },
	{ "inbound", config_inbound },
};

/* One key = value into c->cf; e->msg says what is wrong, if anything. */
void
config_key_set(struct config_load_ctx *c, const char *section,
    const char *key, const char *v, struct err *e)
{
	size_t	i;

	if (*section == '\0') {
		err_set(e, "is not in a [section]");
		return;
	}
	if (c->user_file && strcmp(section, "redis") != 0) {
		err_set(e, "only [redis] belongs in a per-user file");
		return;
	}
	for (i = 0; i < sizeof config_sections / sizeof config_sections[0];
	    i++) {
		if (strcmp(section, config_sections[i].name) != 0)
			continue;
		if (!config_sections[i].key(c, key, v, e))
			err_set(e, "unknown key");
		return;
	}
	err_set(e, "unknown section [%s]", section);
}

