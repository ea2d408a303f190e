/*
 * view_impl.h: what view.c, view_meeting.c and view_said.c share. Not for
 * anyone else: the rest uses view.h. Pure; worker threads, each on its own
 * job and its own struct view.
 */
#ifndef HB_VIEW_IMPL_H
#define HB_VIEW_IMPL_H

#include <jansson.h>

#include "view.h"

struct config;

/* view.c: the parts every kind shares */
json_t		*view_rec(json_t *data, const char *type, const char *id);
const char	*view_dfield(json_t *data, const char *name);
const char	*view_str(json_t *o, const char *k);
json_t		*view_paragraphs(const char *text);
void		 view_base(struct view *, const char *did,
		    const struct config *, const char *kind,
		    const char *format);
int		 view_recipient(struct view *, json_t *c, struct err *e);
void		 view_reply_to(struct view *, const char *name,
		    const char *addr);
const char	*view_format(json_t *c);
void		 view_copy(json_t *dst, json_t *src, const char *key);
json_t		*view_phone(const char *text);
void		 view_tel(json_t *o, const char *key);
json_t		*view_caller(json_t *data, const char *cid);

/* view_meeting.c */
int	view_meeting(const char *did, const char *kind, const char *cid,
	    json_t *data, const struct config *, struct view *, struct err *e);
int	view_meeting_calllist(const char *did, json_t *data,
	    const struct config *, struct view *, struct err *e);

/* view_said.c */
int	view_said_outcome(const char *did, const char *cid, json_t *data,
	    const struct config *, struct view *, struct err *e);
int	view_said_calls(const char *did, json_t *data,
	    const struct config *, struct view *, struct err *);
int	view_said_digest(const char *did, json_t *data,
	    const struct config *, struct view *, struct err *e);

#endif
