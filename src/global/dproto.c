/* The delivery protocol's lines: doc/delivery-protocol.md. */

#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "global/dproto.h"
#include "lib/str.h"
#include "lib/tabescape.h"
#include "lib/xalloc.h"

/* An F address waiting for the S line of its index. */
struct dproto_fwd {
	unsigned index;
	char *address;
};

/* Parse the decimal number S (digits only, no sign) into *NUM_R. */
static bool
parse_ull(const char *s, unsigned long long *num_r)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*num_r = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static bool
parse_index(const char *s, unsigned *index_r)
{
	unsigned long long n;

	if (!parse_ull(s, &n) || n > UINT32_MAX)
		return false;
	*index_r = (unsigned)n;
	return true;
}

/* Append the fields of V (N of them) as one line. */
static void
write_line(struct str *out, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			str_append_c(out, '\t');
		tab_escape(out, v[i] != NULL ? v[i] : "");
	}
	str_append_c(out, '\n');
}

const char *
dproto_request_attr(const struct dproto_request *req, const char *name)
{
	size_t len = strlen(name), i;

	for (i = 0; i < req->n_attrs; i++)
		if (strncmp(req->attrs[i], name, len) == 0 &&
		    req->attrs[i][len] == '=')
			return req->attrs[i] + len + 1;
	return NULL;
}

void
dproto_request_write(struct str *out, const struct dproto_request *req)
{
	char off[24], len[24], idx[16];
	size_t i;

	snprintf(off, sizeof(off), "%llu", req->offset);
	snprintf(len, sizeof(len), "%llu", req->length);
	write_line(out, (const char *[]){ "D", req->queue_id, req->path, off,
	    len, req->transport, req->nexthop, req->sender }, 8);
	for (i = 0; i < req->n_attrs; i++)
		write_line(out, (const char *[]){ "A", req->attrs[i] }, 2);
	for (i = 0; i < req->n_rcpts; i++) {
		snprintf(idx, sizeof(idx), "%u", req->rcpts[i].index);
		write_line(out, (const char *[]){ "R", idx,
		    req->rcpts[i].final, req->rcpts[i].orcpt,
		    req->rcpts[i].notify }, 5);
	}
	str_append(out, ".\n");
}

int
dproto_request_line(struct dproto_request *req, char *line,
    const char **error_r)
{
	struct dproto_rcpt *r;
	char **f;
	size_t n, i;
	unsigned index;
	int ret = -1;

	if (req->done) {
		*error_r = "line after the end of the request";
		return -1;
	}
	if (strcmp(line, ".") == 0) {
		if (req->queue_id == NULL || req->n_rcpts == 0) {
			*error_r = "request without a message or recipients";
			return -1;
		}
		req->done = true;
		return 1;
	}
	f = tab_split(line, &n);
	if (strcmp(f[0], "D") == 0 && n == 8) {
		if (req->queue_id != NULL) {
			*error_r = "second D line";
			goto out;
		}
		if (!parse_ull(f[3], &req->offset) ||
		    !parse_ull(f[4], &req->length) || f[1][0] == '\0' ||
		    f[2][0] != '/' || f[5][0] == '\0') {
			*error_r = "malformed D line";
			goto out;
		}
		req->queue_id = xstrdup(f[1]);
		req->path = xstrdup(f[2]);
		req->transport = xstrdup(f[5]);
		req->nexthop = xstrdup(f[6]);
		req->sender = xstrdup(f[7]);
	} else if (req->queue_id == NULL) {
		*error_r = "request does not start with a D line";
		goto out;
	} else if (strcmp(f[0], "A") == 0 && n == 2) {
		if (strchr(f[1], '=') == NULL || f[1][0] == '=') {
			*error_r = "malformed A line";
			goto out;
		}
		req->attrs = xreallocarray(req->attrs, req->n_attrs + 2,
		    sizeof(*req->attrs));
		req->attrs[req->n_attrs++] = xstrdup(f[1]);
		req->attrs[req->n_attrs] = NULL;
	} else if (strcmp(f[0], "R") == 0 && n == 5) {
		if (!parse_index(f[1], &index) || f[2][0] == '\0') {
			*error_r = "malformed R line";
			goto out;
		}
		for (i = 0; i < req->n_rcpts; i++)
			if (req->rcpts[i].index == index) {
				*error_r = "recipient index given twice";
				goto out;
			}
		req->rcpts = xreallocarray(req->rcpts, req->n_rcpts + 1,
		    sizeof(*req->rcpts));
		r = &req->rcpts[req->n_rcpts++];
		r->index = index;
		r->final = xstrdup(f[2]);
		r->orcpt = xstrdup(f[3]);
		r->notify = xstrdup(f[4]);
	} else {
		*error_r = "unknown request line";
		goto out;
	}
	ret = 0;
out:
	free(f);
	return ret;
}

void
dproto_request_clear(struct dproto_request *req)
{
	size_t i;

	free(req->queue_id);
	free(req->path);
	free(req->transport);
	free(req->nexthop);
	free(req->sender);
	for (i = 0; i < req->n_attrs; i++)
		free(req->attrs[i]);
	free(req->attrs);
	for (i = 0; i < req->n_rcpts; i++) {
		free(req->rcpts[i].final);
		free(req->rcpts[i].orcpt);
		free(req->rcpts[i].notify);
	}
	free(req->rcpts);
	memset(req, 0, sizeof(*req));
}

void
dproto_forward_write(struct str *out, unsigned index, const char *address)
{
	char idx[16];

	snprintf(idx, sizeof(idx), "%u", index);
	write_line(out, (const char *[]){ "F", idx, address }, 3);
}

void
dproto_status_write(struct str *out, unsigned index, int class,
    const char *dsn, const char *relay, const char *text)
{
	char idx[16], cls[4];

	snprintf(idx, sizeof(idx), "%u", index);
	snprintf(cls, sizeof(cls), "%d", class);
	write_line(out, (const char *[]){ "S", idx, cls, dsn, relay, text },
	    6);
}

void
dproto_reply_end(struct str *out)
{
	str_append(out, ".\n");
}

const struct dproto_status *
dproto_reply_find(const struct dproto_reply *r, unsigned index)
{
	size_t i;

	for (i = 0; i < r->n_st; i++)
		if (r->st[i].index == index)
			return &r->st[i];
	return NULL;
}

/* Move the pending F addresses of INDEX to ST. */
static void
take_forwards(struct dproto_reply *reply, struct dproto_status *st)
{
	size_t i, j = 0;

	for (i = 0; i < reply->n_pending; i++) {
		if (reply->pending[i].index != st->index) {
			reply->pending[j++] = reply->pending[i];
			continue;
		}
		st->forward = xreallocarray(st->forward, st->n_forward + 2,
		    sizeof(*st->forward));
		st->forward[st->n_forward++] = reply->pending[i].address;
		st->forward[st->n_forward] = NULL;
	}
	reply->n_pending = j;
}

int
dproto_reply_line(struct dproto_reply *reply, char *line,
    const char **error_r)
{
	struct dproto_status *st;
	char **f;
	size_t n;
	unsigned index;
	int ret = -1;

	if (reply->done) {
		*error_r = "line after the end of the reply";
		return -1;
	}
	if (strcmp(line, ".") == 0) {
		if (reply->n_pending > 0) {
			*error_r = "F line without its S line";
			return -1;
		}
		reply->done = true;
		return 1;
	}
	f = tab_split(line, &n);
	if (strcmp(f[0], "F") == 0 && n == 3) {
		if (!parse_index(f[1], &index) || f[2][0] == '\0') {
			*error_r = "malformed F line";
			goto out;
		}
		if (dproto_reply_find(reply, index) != NULL) {
			*error_r = "F line after the S line of its index";
			goto out;
		}
		reply->pending = xreallocarray(reply->pending,
		    reply->n_pending + 1, sizeof(*reply->pending));
		reply->pending[reply->n_pending].index = index;
		reply->pending[reply->n_pending++].address = xstrdup(f[2]);
	} else if (strcmp(f[0], "S") == 0 && n == 6) {
		if (!parse_index(f[1], &index) || f[2][1] != '\0' ||
		    (f[2][0] != '2' && f[2][0] != '4' && f[2][0] != '5')) {
			*error_r = "malformed S line";
			goto out;
		}
		if (dproto_reply_find(reply, index) != NULL) {
			*error_r = "S line given twice for one index";
			goto out;
		}
		reply->st = xreallocarray(reply->st, reply->n_st + 1,
		    sizeof(*reply->st));
		st = &reply->st[reply->n_st++];
		memset(st, 0, sizeof(*st));
		st->index = index;
		st->class = f[2][0] - '0';
		st->dsn = xstrdup(f[3]);
		st->relay = xstrdup(f[4]);
		st->text = xstrdup(f[5]);
		take_forwards(reply, st);
	} else {
		*error_r = "unknown reply line";
		goto out;
	}
	ret = 0;
out:
	free(f);
	return ret;
}

void
dproto_reply_clear(struct dproto_reply *reply)
{
	size_t i;

	for (i = 0; i < reply->n_st; i++) {
		free(reply->st[i].dsn);
		free(reply->st[i].relay);
		free(reply->st[i].text);
		strv_free(&reply->st[i].forward);
	}
	free(reply->st);
	for (i = 0; i < reply->n_pending; i++)
		free(reply->pending[i].address);
	free(reply->pending);
	memset(reply, 0, sizeof(*reply));
}
