/*
 * config.h: the INI file of SPEC section 7, read with inih.
 *
 * A struct config is immutable once config_load() returns. The main thread
 * owns the current one; a job that crosses to a worker holds a reference
 * (config_ref/config_unref are atomic), so SIGHUP can swap in a new config
 * while workers still use the old one.
 */
#ifndef HB_CONFIG_H
#define HB_CONFIG_H

#include "util.h"

#define CONFIG_DEFAULT_PATH	"/etc/hearback/hearback.conf"
#define CONFIG_MAX_LEADS	16
/* Where `make install` puts the shipped templates, beside the program:
 * PREFIX/sbin/hearbackd (or PREFIX/bin/hearback) finds them in
 * PREFIX/share/hearback/templates; this when that cannot be known. */
#define CONFIG_SHIPPED_TEMPLATES	"/usr/local/share/hearback/templates"
/* The per-user file `hearback` also reads (its [redis] section only),
 * under $XDG_CONFIG_HOME, else $HOME/.config. */
#define CONFIG_USER_FILE	"hearback/hearback.conf"

/* What config_load_for() reads besides the file. */
#define CONFIG_NEED_REDIS	0x01	/* the Redis password */
#define CONFIG_NEED_SMTP	0x02	/* the SMTP password */
#define CONFIG_USER		0x04	/* the per-user file ([redis] only) */
#define CONFIG_NEED_WEB		0x08	/* the [web] key, when base_url is set */
#define CONFIG_DAEMON		(CONFIG_NEED_REDIS | CONFIG_NEED_SMTP | \
				 CONFIG_NEED_WEB)

enum config_tls {
	CONFIG_TLS_STARTTLS,
	CONFIG_TLS_TLS,
	CONFIG_TLS_NONE
};

struct config {
	int		 refs;
	char		*path;

	char		*redis_host;
	int		 redis_port;
	char		*redis_socket;		/* a Unix socket instead, or NULL */
	char		*redis_user;		/* an ACL user for AUTH, or NULL */
	int		 redis_tunnel;		/* [redis] tunnel */
	char		*redis_password;	/* from password_file or credential */
	char		*user_path;		/* the per-user file read, or NULL */
	char		*prefix;		/* "hearback"; keys are "{prefix}:..." (store.h) */

	char		*smtp_host;
	int		 smtp_port;
	enum config_tls	 smtp_tls;
	char		*smtp_ca_file;
	char		*smtp_user;
	char		*smtp_password;
	char		*from;			/* as written: "Forum team <forum@example.org>" */
	char		*from_name;		/* "Forum team" (may be "") */
	char		*from_addr;		/* "forum@example.org" */
	char		*from_domain;		/* "example.org": Message-IDs, calendar UIDs */
	int		 workers;
	int		 smtp_per_connection;	/* emails one connection carries */

	char		*timezone;
	long long	 reminders[CONFIG_MAX_LEADS];	/* seconds, in order written */
	int		 nreminders;
	long long	 min_notice;
	int		 quiet_start;		/* minutes after midnight, -1: none */
	int		 quiet_end;
	long long	 retry_min;
	long long	 retry_max;
	long long	 max_age;
	long long	 lease;
	long long	 feedback_due;

	char		*coordinator;
	long long	 digest_every;

	long long	 retention_audit;	/* [retention], seconds */
	long long	 retention_dead;

	char		*templates_dir;		/* the operator's: override by name */
	char		*templates_shipped;	/* what make install put in place */

	char		*http_host;		/* "" disables the HTTP listener */
	int		 http_port;

	char		*web_host;		/* [web] listen; "" disables it */
	int		 web_port;
	char		*web_base_url;		/* NULL: no pages, no links */
	char		*web_key;		/* the secret for tokens (token.h) */

	char		*inbound_address;	/* [inbound] address, or NULL */

	long long	 shutdown_timeout;
	long long	 max_record_bytes;
};

/* Load and check a file. On failure returns NULL and e says file, line, key.
 * config_load() is the daemon's: every secret (CONFIG_DAEMON). */
struct config	*config_load(const char *path, struct err *e);
/* The same with only the secrets `need` asks for (CONFIG_NEED_*), and with
 * CONFIG_USER the [redis] section of the per-user file on top. */
struct config	*config_load_for(const char *path, int need, struct err *e);
/* "redis 127.0.0.1:6379" or "redis unix:/run/redis.sock": for messages. */
const char	*config_redis_where(const struct config *, char *buf, size_t);
/* Why the way to Redis crosses a network in clear text (a host that is
 * neither loopback nor behind a declared [redis] tunnel), into buf; NULL
 * when it does not. For a warning at start-up and from hearbackd -t. */
const char	*config_redis_exposed(const struct config *, char *buf,
		    size_t);
/* A config with every default (no file); used by tests and `validate`. */
struct config	*config_default(void);
struct config	*config_ref(struct config *);
void		 config_unref(struct config *);

#endif
