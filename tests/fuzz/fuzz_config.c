/*
 * fuzz_config.c: libFuzzer target for config_load (daemon/config.c, inih).
 *
 * config_load only takes a path and wants a regular file, so the input goes
 * into a memfd (a regular file in memory) that is loaded through
 * /proc/self/fd/N; nothing touches the disk.
 *
 * Properties, beyond "no crash, no leak, no undefined behaviour":
 *  - on failure: NULL, and e.msg is non-empty, NUL-terminated and starts
 *    with the file's path (the operator must know which file is wrong);
 *  - a message "PATH: line N: [section] key: ..." points at the line that
 *    holds the key (checked for inputs of short lines without NULs, and
 *    not for continuation lines, where inih repeats the previous key);
 *  - on success: the values config.h promises are there (from split into
 *    name and address, a prefix, ports in range, retry_min <= retry_max).
 *
 * CREDENTIALS_DIRECTORY is unset so that the result depends on the input
 * alone. A *_file key may still name a real file: run with stdin from
 * /dev/null (tests/fuzz/run does).
 *
 * Single-threaded; GMime is initialised once (address checks use it).
 */
#include <sys/mman.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "config.h"
#include "util.h"

#include "fuzz.h"

static int	fuzz_fd = -1;
static char	fuzz_path[64];

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	g_mime_init();
	log_setverbose(-1);
	unsetenv("CREDENTIALS_DIRECTORY");
	if ((fuzz_fd = memfd_create("hearback.conf", MFD_CLOEXEC)) == -1) {
		perror("memfd_create");
		exit(1);
	}
	snprintf(fuzz_path, sizeof fuzz_path, "/proc/self/fd/%d", fuzz_fd);
	return 0;
}

static void
fuzz_check_ok(const struct config *cf)
{
	if (cf->refs != 1)
		FUZZ_FAIL("refs %d", cf->refs);
	if (cf->path == NULL || strcmp(cf->path, fuzz_path) != 0)
		FUZZ_FAIL("path \"%s\"", cf->path ? cf->path : "(null)");
	if (cf->prefix == NULL || cf->prefix[0] == '\0')
		FUZZ_FAIL("empty prefix");
	if (cf->redis_host == NULL || cf->redis_host[0] == '\0' ||
	    cf->smtp_host == NULL || cf->smtp_host[0] == '\0')
		FUZZ_FAIL("empty host");
	if (cf->redis_port < 1 || cf->redis_port > 65535 ||
	    cf->smtp_port < 1 || cf->smtp_port > 65535)
		FUZZ_FAIL("port out of range");
	if (cf->from == NULL || cf->from_name == NULL ||
	    cf->from_addr == NULL || cf->from_domain == NULL ||
	    strchr(cf->from_addr, '@') == NULL || cf->from_domain[0] == '\0')
		FUZZ_FAIL("from not split into name and address");
	if (cf->nreminders < 0 || cf->nreminders > CONFIG_MAX_LEADS)
		FUZZ_FAIL("nreminders %d", cf->nreminders);
	if (cf->retry_min < 1 || cf->retry_max < cf->retry_min)
		FUZZ_FAIL("retry_min %lld, retry_max %lld", cf->retry_min,
		    cf->retry_max);
	if (cf->workers < 1 || cf->workers > 64)
		FUZZ_FAIL("workers %d", cf->workers);
	if (cf->timezone == NULL || cf->templates_dir == NULL ||
	    cf->coordinator == NULL || cf->http_host == NULL)
		FUZZ_FAIL("a string is NULL");
	if (cf->smtp_user != NULL && cf->smtp_password == NULL)
		FUZZ_FAIL("smtp user without a password");
}

/* Line n (1-based) of data into buf; -1 if there is none or it is long. */
static int
fuzz_line(const uint8_t *data, size_t size, long n, char *buf, size_t len)
{
	const uint8_t	*p = data, *end = data + size, *nl;
	long		 i;

	for (i = 1; i < n; i++) {
		if ((nl = memchr(p, '\n', end - p)) == NULL)
			return -1;
		p = nl + 1;
	}
	if ((nl = memchr(p, '\n', end - p)) == NULL)
		nl = end;
	if ((size_t)(nl - p) >= len)
		return -1;
	memcpy(buf, p, nl - p);
	buf[nl - p] = '\0';
	return 0;
}

/* The key a message names is on the line it names. */
static void
fuzz_check_line(const uint8_t *data, size_t size, const char *msg)
{
	const uint8_t	*p, *nl;
	const char	*s, *k, *colon;
	char		 line[256], key[256];
	long		 n;

	/* Only short lines without NULs: no splitting by inih's line limit. */
	if (memchr(data, '\0', size) != NULL)
		return;
	for (p = data; p < data + size; p = nl + 1) {
		if ((nl = memchr(p, '\n', data + size - p)) == NULL)
			nl = data + size;
		if (nl - p > 150)
			return;
	}
	s = msg + strlen(fuzz_path);
	if (strncmp(s, ": line ", 7) != 0)
		return;
	n = strtol(s + 7, (char **)&k, 10);
	if (n < 1 || strncmp(k, ": ", 2) != 0)
		return;
	k += 2;
	if (strncmp(k, "not an INI line", 15) == 0 ||
	    strncmp(k, "unknown section", 15) == 0)
		return;
	if (*k == '[' && (k = strstr(k, "] ")) != NULL)
		k += 2;
	if (k == NULL || (colon = strchr(k, ':')) == NULL ||
	    (size_t)(colon - k) >= sizeof key || colon == k)
		return;
	memcpy(key, k, colon - k);
	key[colon - k] = '\0';
	if (fuzz_line(data, size, n, line, sizeof line) == -1)
		FUZZ_FAIL("message names line %ld, which is not there: %s",
		    n, msg);
	if (isspace((unsigned char)line[0]))
		return;		/* a continuation line (inih: any isspace) */
	if (strstr(line, key) == NULL)
		FUZZ_FAIL("message names line %ld (\"%s\"), which does not "
		    "hold key \"%s\": %s", n, line, key, msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*cf;
	struct err	 e;
	size_t		 off = 0, len;
	ssize_t		 n;

	if (ftruncate(fuzz_fd, 0) == -1 || lseek(fuzz_fd, 0, SEEK_SET) == -1)
		FUZZ_FAIL("resetting the memfd");
	while (off < size) {
		if ((n = write(fuzz_fd, data + off, size - off)) <= 0)
			FUZZ_FAIL("writing the memfd");
		off += (size_t)n;
	}

	memset(&e, 0, sizeof e);
	cf = config_load(fuzz_path, &e);
	if (cf != NULL) {
		fuzz_check_ok(cf);
		config_unref(cf);
		return 0;
	}
	len = strnlen(e.msg, sizeof e.msg);
	if (len == 0)
		FUZZ_FAIL("config_load failed with an empty message");
	if (len == sizeof e.msg)
		FUZZ_FAIL("message not NUL-terminated");
	if (strncmp(e.msg, fuzz_path, strlen(fuzz_path)) != 0)
		FUZZ_FAIL("message does not name the file: %s", e.msg);
	fuzz_check_line(data, size, e.msg);
	return 0;
}
