/*
 * config_impl.h: what config.c and config_key.c share while a config is
 * loaded. Not for anyone else: the rest uses config.h. One load at a time
 * per struct config_load_ctx, on the thread that loads.
 */
#ifndef HB_CONFIG_IMPL_H
#define HB_CONFIG_IMPL_H

#include <stdio.h>

#include "config.h"

struct config_load_ctx {
	struct config	*cf;
	struct err	*e;
	FILE		*f;
	int		 line;		/* lines read so far */
	int		 failed;	/* line of our first error, 0: none */
	int		 user_file;	/* the per-user file: [redis] only */
	int		 pw_user;	/* it named the Redis password file */
	char		*redis_password_file;
	char		*smtp_password_file;
	char		*web_key_file;
};

/* config.c */
void	config_setstr(char **dst, const char *v);
int	config_is_loopback(const char *host);

/* config_key.c: one key = value into c->cf; e->msg says what is wrong, if
 * anything (unknown section, unknown key, or a bad value). */
void	config_key_set(struct config_load_ctx *c, const char *section,
	    const char *key, const char *v, struct err *e);

#endif
