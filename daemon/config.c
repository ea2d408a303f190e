/*
 * config.c: reads the INI file of SPEC section 7 with inih and checks every
 * value before the daemon or the command uses it.
 *
 * Any problem (an unknown section or key, a bad duration or address, an
 * unreadable file) fails the whole load with a message that names the file,
 * the line and the key; the caller exits 78. Secrets are never in the main
 * file: they come from *_file keys or, when those are empty, from systemd
 * credentials in $CREDENTIALS_DIRECTORY (redis-password, smtp-password).
 * Each program reads only the secrets its job needs (config_load_for): the
 * command never the SMTP password. The command also reads the [redis]
 * section of a per-user file (~/.config/hearback/hearback.conf), so that a
 * coordinator logs in to Redis as their own ACL user with their own
 * password file, while the daemon keeps its credentials to itself.
 *
 * A loaded config is immutable and reference counted (atomic), so the main
 * thread can swap in a new one on SIGHUP while jobs still hold the old one.
 *
 * This file: the defaults, reading the files (inih, line by line so errors
 * name the line), the secrets, the checks across sections, and the
 * references. Each key's value is checked by config_key.c.
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



void
config_setstr(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* PREFIX/share/hearback/templates for the program at PREFIX/[s]bin/. */
static char *
config_shipped_default(void)
{
	char	 exe[4096], *slash;
	ssize_t	 n;
	int	 i;

	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0 ||
	    (size_t)n >= sizeof exe - 1)
		return xstrdup(CONFIG_SHIPPED_TEMPLATES);
	exe[n] = '\0';
	for (i = 0; i < 2; i++) {
		if ((slash = strrchr(exe, '/')) == NULL)
			return xstrdup(CONFIG_SHIPPED_TEMPLATES);
		*slash = '\0';
	}
	return xasprintf("%s/share/hearback/templates", exe);
}

struct config *
config_default(void)
{
	struct config	*cf = xcalloc(1, sizeof *cf);

	cf->refs = 1;
	cf->path = xstrdup("(defaults)");
	cf->redis_host = xstrdup("127.0.0.1");
	cf->redis_port = 6379;
	cf->prefix = xstrdup("hearback");
	cf->smtp_host = xstrdup("127.0.0.1");
	cf->smtp_port = 587;
	cf->smtp_tls = CONFIG_TLS_STARTTLS;
	cf->from = xstrdup("Forum team <forum@example.org>");
	cf->from_name = xstrdup("Forum team");
	cf->from_addr = xstrdup("forum@example.org");
	cf->from_domain = xstrdup("example.org");
	cf->workers = 4;
	cf->smtp_per_connection = 100;
	cf->timezone = xstrdup("Europe/London");
	cf->reminders[0] = 7 * 86400;
	cf->reminders[1] = 86400;
	cf->reminders[2] = 2 * 3600;
	cf->nreminders = 3;
	cf->min_notice = 14 * 86400;
	cf->quiet_start = 21 * 60;
	cf->quiet_end = 8 * 60;
	cf->retry_min = 60;
	cf->retry_max = 3600;
	cf->max_age = 5 * 86400;
	cf->lease = 60;
	cf->feedback_due = 28 * 86400;
	cf->coordinator = xstrdup("coordinator@example.org");
	cf->digest_every = 86400;
	cf->retention_audit = 90 * 86400;
	cf->retention_dead = 30 * 86400;
	cf->templates_dir = xstrdup("/etc/hearback/templates");
	cf->templates_shipped = config_shipped_default();
	cf->http_host = xstrdup("127.0.0.1");
	cf->http_port = 9187;
	cf->web_host = xstrdup("127.0.0.1");
	cf->web_port = 9188;
	cf->shutdown_timeout = 30;
	cf->max_record_bytes = 65536;
	return cf;
}


/* inih's line reader, counting lines so errors name the right one. */
static char *
config_reader(char *str, int num, void *stream)
{
	struct config_load_ctx	*c = stream;
	char			*r = fgets(str, num, c->f);

	if (r != NULL)
		c->line++;
	return r;
}


/*
 * The inih handler: one key at a time. The first error is kept in c->e
 * with its line (c->failed) and the names of its section and key. Returns
 * 0 on error (inih's convention).
 */
static int
config_handler(void *user, const char *section, const char *key,
    const char *v)
{
	struct config_load_ctx	*c = user;
	struct err		 e;

	e.msg[0] = '\0';
	config_key_set(c, section, key, v, &e);
	if (e.msg[0] == '\0')
		return 1;
	if (!c->failed) {
		c->failed = c->line;
		if (strncmp(e.msg, "unknown section", 15) == 0)
			err_set(c->e, "%s", e.msg);
		else if (*section == '\0')
			err_set(c->e, "%s: %s", key, e.msg);
		else
			err_set(c->e, "[%s] %s: %s", section, key, e.msg);
	}
	return 0;
}

/* Read a secret: a file holding it on one line (a trailing newline is
 * fine; more lines are refused, in case the wrong file was named). */
static char *
config_secret(const char *path, struct err *e)
{
	char	*s;
	size_t	 len;

	if ((s = util_readfile(path, 4096, &len, e)) == NULL)
		return NULL;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = '\0';
	if (strchr(s, '\n') != NULL || len == 0) {
		free(s);
		err_set(e, "%s: must hold the secret on one line", path);
		return NULL;
	}
	return s;
}

/* A *_file key, else $CREDENTIALS_DIRECTORY/<cred> if present, else NULL. */
static int
config_load_secret(const char *file, const char *cred, char **out,
    struct err *e)
{
	const char	*dir = getenv("CREDENTIALS_DIRECTORY");
	char		*path;
	FILE		*f;

	if (file != NULL && *file != '\0') {
		struct stat	st;

		/* A password everyone on the machine can read is no secret. */
		if (stat(file, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH))) {
			err_set(e, "%s: anyone on this machine can %s it (mode "
			    "%04o): chmod 600 %s (or 640, with a group only "
			    "the service is in)", file, st.st_mode & S_IWOTH ?
			    "change" : "read", (unsigned)(st.st_mode & 07777),
			    file);
			return -1;
		}
		if ((*out = config_secret(file, e)) == NULL)
			return -1;
		return 0;
	}
	if (dir == NULL || *dir == '\0')
		return 0;
	path = xasprintf("%s/%s", dir, cred);
	if ((f = fopen(path, "r")) == NULL) {
		free(path);
		return 0;
	}
	fclose(f);
	*out = config_secret(path, e);
	free(path);
	return *out == NULL ? -1 : 0;
}

int
config_is_loopback(const char *host)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

/* One file into c->cf; -1 with c->e naming the file and the line. */
static int
config_parse_file(struct config_load_ctx *c, const char *path)
{
	FILE			*f;
	struct stat		 st;
	int			 line;

	if ((f = fopen(path, "r")) == NULL)
		return err_set(c->e, "%s: cannot read: %m", path);
	if (fstat(fileno(f), &st) == -1 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return err_set(c->e, "%s: cannot read: not a regular file",
		    path);
	}
	c->f = f;
	c->line = 0;
	c->failed = 0;
	line = ini_parse_stream(config_reader, c, config_handler, c);
	fclose(f);
	c->f = NULL;
	if (line != 0) {
		/* inih reports the first bad line; ours may come later. */
		if (c->failed && (line < 0 || c->failed <= line))
			err_prefix(c->e, "%s: line %d", path, c->failed);
		else
			err_set(c->e, "%s: line %d: not an INI line (key = "
			    "value, or [section])", path, line);
		return -1;
	}
	return 0;
}

/* The per-user file's path, if there is one to read; else NULL. */
static char *
config_user_path(void)
{
	const char	*xdg = getenv("XDG_CONFIG_HOME");
	const char	*home = getenv("HOME");
	char		*p;

	if (xdg != NULL && *xdg == '/')
		p = xasprintf("%s/%s", xdg, CONFIG_USER_FILE);
	else if (home != NULL && *home == '/')
		p = xasprintf("%s/.config/%s", home, CONFIG_USER_FILE);
	else
		return NULL;
	if (access(p, F_OK) == -1) {
		free(p);
		return NULL;
	}
	return p;
}

const char *
config_redis_where(const struct config *cf, char *buf, size_t len)
{
	if (cf->redis_socket != NULL)
		snprintf(buf, len, "unix:%s", cf->redis_socket);
	else if (strchr(cf->redis_host, ':') != NULL)
		snprintf(buf, len, "[%s]:%d", cf->redis_host, cf->redis_port);
	else
		snprintf(buf, len, "%s:%d", cf->redis_host, cf->redis_port);
	return buf;
}

const char *
config_redis_exposed(const struct config *cf, char *buf, size_t len)
{
	char	where[300];

	if (cf->redis_socket != NULL)
		return NULL;
	config_redis_where(cf, where, sizeof where);
	if (!config_is_loopback(cf->redis_host) && !cf->redis_tunnel)
		snprintf(buf, len, "[redis] %s is not on this machine and no "
		    "tunnel is declared: the password and every record cross "
		    "the network in clear text. Reach it through a TLS tunnel "
		    "on loopback (stunnel) and set [redis] tunnel = yes "
		    "(SECURITY.md)", where);
	else if (!config_is_loopback(cf->redis_host))
		snprintf(buf, len, "[redis] tunnel = yes, but %s is not a "
		    "loopback address: the way to the tunnel is in clear "
		    "text. Run the tunnel's client end on this machine", where);
	else
		return NULL;
	return buf;
}

struct config *
config_load(const char *path, struct err *e)
{
	return config_load_for(path, CONFIG_DAEMON, e);
}

/* The checks across keys of the files read, path the main one. */
static int
config_check_across(struct config_load_ctx *c, const char *path)
{
	struct err	*e = c->e;

	if (c->cf->retry_max > 7 * 86400)
		return err_set(e, "%s: [delivery] retry_max: at most 7d", path);
	if (c->cf->retry_max < c->cf->retry_min)
		return err_set(e, "%s: [delivery] retry_max is less than "
		    "retry_min", path);
	if (c->cf->smtp_tls == CONFIG_TLS_NONE &&
	    !config_is_loopback(c->cf->smtp_host))
		return err_set(e, "%s: [smtp] tls: \"none\" is only allowed "
		    "for a loopback host, not \"%s\"", path, c->cf->smtp_host);
	return 0;
}

/* The SMTP password, which [smtp] user needs. */
static int
config_smtp_secret(struct config_load_ctx *c, const char *path)
{
	if (config_load_secret(c->smtp_password_file, "smtp-password",
	    &c->cf->smtp_password, c->e) == -1) {
		err_prefix(c->e, "%s: [smtp] password_file", path);
		return -1;
	}
	if (c->cf->smtp_user != NULL && c->cf->smtp_password == NULL)
		return err_set(c->e, "%s: [smtp] user is set but there is no "
		    "password (password_file or the smtp-password credential)",
		    path);
	return 0;
}

/* The key of the answer pages' links, which [web] base_url needs. */
static int
config_web_key(struct config_load_ctx *c, const char *path)
{
	if (config_load_secret(c->web_key_file, "web-key", &c->cf->web_key,
	    c->e) == -1) {
		err_prefix(c->e, "%s: [web] key_file", path);
		return -1;
	}
	if (c->cf->web_key == NULL)
		return err_set(c->e, "%s: [web] base_url is set but there is no "
		    "key (key_file or the web-key credential)", path);
	if (strlen(c->cf->web_key) < 16)
		return err_set(c->e, "%s: [web] key_file: the key is too short "
		    "(at least 16 characters; try: openssl rand -hex 32)",
		    path);
	return 0;
}

/* The secrets the program needs (need: CONFIG_NEED_*). */
static int
config_secrets(struct config_load_ctx *c, const char *path, int need)
{
	if ((need & CONFIG_NEED_REDIS) &&
	    config_load_secret(c->redis_password_file, "redis-password",
	    &c->cf->redis_password, c->e) == -1) {
		err_prefix(c->e, "%s: [redis] password_file", c->pw_user ?
		    c->cf->user_path : path);
		return -1;
	}
	if ((need & CONFIG_NEED_SMTP) && config_smtp_secret(c, path) == -1)
		return -1;
	if ((need & CONFIG_NEED_WEB) && c->cf->web_base_url != NULL &&
	    config_web_key(c, path) == -1)
		return -1;
	return 0;
}

struct config *
config_load_for(const char *path, int need, struct err *e)
{
	struct config_load_ctx	 c;
	char			*upath;

	memset(&c, 0, sizeof c);
	c.cf = config_default();
	c.e = e;
	config_setstr(&c.cf->path, path);
	if (config_parse_file(&c, path) == -1)
		goto err;
	if ((need & CONFIG_USER) && (upath = config_user_path()) != NULL) {
		c.cf->user_path = upath;
		c.user_file = 1;
		if (config_parse_file(&c, upath) == -1)
			goto err;
		c.user_file = 0;
	}
	if (config_check_across(&c, path) == -1 ||
	    config_secrets(&c, path, need) == -1)
		goto err;
	free(c.redis_password_file);
	free(c.smtp_password_file);
	free(c.web_key_file);
	return c.cf;
err:
	free(c.redis_password_file);
	free(c.smtp_password_file);
	free(c.web_key_file);
	config_unref(c.cf);
	return NULL;
}

struct config *
config_ref(struct config *cf)
{
	__atomic_add_fetch(&cf->refs, 1, __ATOMIC_RELAXED);
	return cf;
}

void
config_unref(struct config *cf)
{
	if (cf == NULL || __atomic_sub_fetch(&cf->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(cf->path);
	free(cf->redis_host);
	free(cf->redis_socket);
	free(cf->redis_user);
	free(cf->redis_password);
	free(cf->user_path);
	free(cf->prefix);
	free(cf->smtp_host);
	free(cf->smtp_ca_file);
	free(cf->smtp_user);
	free(cf->smtp_password);
	free(cf->from);
	free(cf->from_name);
	free(cf->from_addr);
	free(cf->from_domain);
	free(cf->timezone);
	free(cf->coordinator);
	free(cf->templates_dir);
	free(cf->templates_shipped);
	free(cf->http_host);
	free(cf->web_host);
	free(cf->web_base_url);
	if (cf->web_key != NULL)
		explicit_bzero(cf->web_key, strlen(cf->web_key));
	free(cf->web_key);
	free(cf->inbound_address);
	free(cf);
}

