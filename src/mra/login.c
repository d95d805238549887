/*
 * Logging in: the client's credentials go to authd's auth-client socket
 * (auth_client.h); on OK the login is handed to the spawner with authd's
 * request id and cookie, and the mail process's answer starts the proxy.
 * The login process never learns a uid: the mail process asks authd.
 */

#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/evp.h>

#include "global/auth_client.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mra/login.h"
#include "mra/spawner.h"

char *
mra_base64(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* The value of field NAME ("user=") in FIELDS, or NULL. */
static const char *
field(const char *const *fields, const char *name)
{
	size_t len = strlen(name);

	for (; fields != NULL && *fields != NULL; fields++)
		if (strncmp(*fields, name, len) == 0)
			return *fields + len;
	return NULL;
}

/* Tell the protocol RESULT and read commands again. */
static void
auth_done(struct mra_conn *c, enum mra_auth_result result)
{
	c->state = MRA_CMD;
	c->spawn_seq = 0;
	if (c->mail_fd >= 0) {
		close(c->mail_fd);
		c->mail_fd = -1;
	}
	bufferevent_enable(c->bev, EV_READ);
	mra.proto->auth_reply(c, result, NULL);
	if (result == MRA_AUTH_FAILED &&
	    ++c->auth_failures >= MRA_AUTH_FAIL_MAX)
		mra_conn_close(c);
	else
		mra_conn_resume(c);
}

/* Hand the login of C to the spawner.  0, or -1 (a temporary failure). */
static int
handover(struct mra_conn *c)
{
	struct evbuffer *in = mra_conn_input(c);
	struct mra_handover h;
	const char *cookie = auth_client_cookie(mra.auth);
	int sv[2];

	if (mra.spawner_fd < 0 || cookie == NULL || c->auth_id == 0)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warning("%s-login: socketpair: %s", mra.service,
		    strerror(errno));
		return -1;
	}
	h = (struct mra_handover){
		.seq = ++mra.next_seq, .auth_id = c->auth_id,
		.cookie = cookie, .user = c->user, .mech = c->mech,
		.tag = c->tag != NULL ? c->tag : "", .rip = c->rip,
		.lip = c->lip, .rport = c->rport, .lport = c->lport,
		.tls = c->tls, .secured = c->secured,
		.session_id = c->session_id,
		.input = evbuffer_pullup(in, -1),
		.input_len = evbuffer_get_length(in),
	};
	if (mra_handover_send(mra.spawner_fd, &h, sv[1]) < 0) {
		log_warning("%s-login: cannot reach the spawner: %s",
		    mra.service, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	/* What the client pipelined is the engine's now, and so is all
	   that follows: read nothing more until the proxy runs. */
	evbuffer_drain(in, h.input_len);
	bufferevent_disable(c->bev, EV_READ);
	c->mail_fd = sv[0];
	c->spawn_seq = h.seq;
	return 0;
}

/* authd accepted the credentials of C as USER. */
static void
auth_ok(struct mra_conn *c, const char *user)
{
	free(c->user);
	c->user = xstrdup(user);
	if (mra.max_userip != 0 &&
	    mra_userip_count(c->user, c->rip) >= mra.max_userip) {
		log_info("%s-login: Maximum number of connections from "
		    "user+IP exceeded (mail_max_userip_connections=%u): "
		    "user=<%s>, rip=%s", mra.service, mra.max_userip, c->user,
		    c->rip);
		auth_done(c, MRA_AUTH_LIMIT);
		return;
	}
	if (handover(c) < 0)
		auth_done(c, MRA_AUTH_TEMPFAIL);
}

/* A reply from authd for C. */
static void
auth_cb(enum auth_client_status status, const char *data,
    const char *const *fields, void *ctx)
{
	struct mra_conn *c = ctx;
	const char *user = field(fields, "user=");

	if (status != AUTH_CLIENT_CONTINUE)
		c->authreq = NULL;
	if (user != NULL && status != AUTH_CLIENT_CONTINUE) {
		free(c->user);
		c->user = xstrdup(user);
	}
	switch (status) {
	case AUTH_CLIENT_OK:
		auth_ok(c, user);
		break;
	case AUTH_CLIENT_CONTINUE:
		c->state = MRA_AUTH_RESPONSE;
		mra.proto->auth_reply(c, MRA_AUTH_CONTINUE, data);
		mra_conn_resume(c);
		break;
	case AUTH_CLIENT_FAIL:
		auth_done(c, MRA_AUTH_FAILED);
		break;
	case AUTH_CLIENT_TEMPFAIL:
		log_warning("%s-login: authentication: %s: rip=%s",
		    mra.service, field(fields, "reason=") != NULL ?
		    field(fields, "reason=") : "temporary failure", c->rip);
		auth_done(c, MRA_AUTH_TEMPFAIL);
		break;
	}
}

void
mra_auth_start(struct mra_conn *c, const char *mech, const char *ir,
    const char *log_method, const char *session_mech)
{
	struct auth_request_info info = {
		.mech = mech, .service = mra.service,
		.local_ip = c->lip, .remote_ip = c->rip,
		.local_port = c->lport, .remote_port = c->rport,
		.secured = c->secured, .initial_resp = ir,
	};

	c->auth_attempts++;
	free(c->mech);
	free(c->log_method);
	c->mech = xstrdup(session_mech);
	c->log_method = xstrdup(log_method);
	c->state = MRA_AUTH;
	c->authreq = auth_client_start(mra.auth, &info, auth_cb, c);
	if (c->authreq == NULL) {
		log_warning("%s-login: authd is unreachable: rip=%s",
		    mra.service, c->rip);
		auth_done(c, MRA_AUTH_TEMPFAIL);
		return;
	}
	c->auth_id = auth_client_request_id(c->authreq);
}

void
mra_auth_continue(struct mra_conn *c, const char *resp)
{
	if (strcmp(resp, "*") == 0) {
		auth_client_abort(&c->authreq);
		c->state = MRA_CMD;
		mra.proto->auth_reply(c, MRA_AUTH_ABORTED, NULL);
		return;
	}
	if (c->authreq == NULL)
		return;
	c->state = MRA_AUTH;
	auth_client_continue(c->authreq, resp);
}

void
mra_auth_abort(struct mra_conn *c)
{
	auth_client_abort(&c->authreq);
	c->spawn_seq = 0;
	if (c->mail_fd >= 0) {
		close(c->mail_fd);
		c->mail_fd = -1;
	}
}

/* The connection waiting for hand-over SEQ, or NULL. */
static struct mra_conn *
conn_by_seq(unsigned long long seq)
{
	struct mra_conn *c;

	TAILQ_FOREACH(c, &mra.conns, link)
		if (c->spawn_seq == seq && c->state == MRA_AUTH)
			return c;
	return NULL;
}

/* The mail process of C runs as MPID: log the login, start the proxy. */
static void
login_done(struct mra_conn *c, pid_t mpid)
{
	int fd = c->mail_fd;

	c->mpid = mpid;
	c->mail_fd = -1;
	c->spawn_seq = 0;
	log_info("%s-login: Login: user=<%s>, method=%s, rip=%s, lip=%s, "
	    "mpid=%ld%s, session=<%s>", mra.service, c->user, c->log_method,
	    c->rip, c->lip, (long)mpid, c->tls ? ", TLS" : c->secured ?
	    ", secured" : "", c->session_id);
	mra_proxy_start(c, fd);
}

/* The spawner is gone: no more logins; exit once no session is left. */
static void
spawner_gone(void)
{
	struct mra_conn *c, *next;
	size_t i;

	log_error("%s-login: the spawner is gone: no more logins until "
	    "imapd/pop3d restarts", mra.service);
	event_free(mra.spawner_ev);
	mra.spawner_ev = NULL;
	close(mra.spawner_fd);
	mra.spawner_fd = -1;
	for (i = 0; i < mra.n_listeners; i++)
		evconnlistener_disable(mra.listeners[i]);
	for (c = TAILQ_FIRST(&mra.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->spawn_seq != 0)
			auth_done(c, MRA_AUTH_TEMPFAIL);
	}
	mra_proxy_check_exit();
}

void
mra_spawner_input(int fd, short what, void *arg)
{
	char buf[1024];
	unsigned long long seq;
	const char *reason;
	struct mra_conn *c;
	ssize_t n;
	pid_t mpid;
	int ret;

	(void)what, (void)arg;
	while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		ret = mra_reply_parse(buf, &seq, &mpid, &reason);
		if (ret < 0) {
			log_warning("%s-login: malformed reply from the "
			    "spawner", mra.service);
			continue;
		}
		if ((c = conn_by_seq(seq)) == NULL)
			continue;	/* the client went meanwhile */
		if (ret == 1)
			login_done(c, mpid);
		else
			auth_done(c, MRA_AUTH_TEMPFAIL);
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		spawner_gone();
}
