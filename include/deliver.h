/*
 * deliver.h: the work a worker thread does on a batch of jobs: view, render,
 * compose, then send them all over one SMTP session (with the batches
 * that follow them). Worker threads only; touches nothing but the jobs
 * it was handed or took (and read-only config and templates they hold
 * references to).
 */
#ifndef HB_DELIVER_H
#define HB_DELIVER_H

#include "util.h"

struct config;
struct job;
struct pool;
struct tmplset;

/* The pool's work function (pool_work_fn): one SMTP session for the batch
 * and, on the same connection, the batches that follow it. */
void	deliver_work(struct pool *, struct job **jobs, int n, void *arg);

/* Build the RFC 5322 text of one delivery, as a worker would (also used by
 * `hearback preview`). *rcpt gets the envelope recipient. */
int	deliver_build(const char *did, const char *kind, const char *cid,
	    json_t *data, const struct config *, const struct tmplset *,
	    char **msg, size_t *len, char **rcpt, struct err *e);

#endif
