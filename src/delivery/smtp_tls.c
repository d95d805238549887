/*
 * STARTTLS for the smtp agent: the client context, the handshake over a
 * libevent OpenSSL filter, and the certificate checks of
 * smtp_tls_security_level (verify: the chain and the MX host name;
 * secure: the chain and the nexthop name).  The log line says what was
 * established, in Postfix's words: Verified (chain and name), Trusted
 * (chain), Untrusted (a certificate that does not verify), Anonymous.
 */

#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "delivery/smtp_session.h"
#include "lib/log.h"
#include "lib/tls.h"
#include "lib/xalloc.h"

SSL_CTX *
tls_client_ctx(const char *cafile, char **error_r)
{
	SSL_CTX *ctx;
	char buf[256];

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		*error_r = xstrdup("SSL_CTX_new failed");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* The checks are made after the handshake, so that a level that
	   does not need them can log what it got. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (cafile != NULL && *cafile != '\0') {
		if (SSL_CTX_load_verify_locations(ctx, cafile, NULL) != 1) {
			ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
			ERR_clear_error();
			*error_r = xasprintf("%s: cannot load the CA "
			    "certificates: %s", cafile, buf);
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else {
		SSL_CTX_set_default_verify_paths(ctx);
	}
	return ctx;
}

/* True when NAME is an IP address. */
static bool
is_ip(const char *name)
{
	unsigned char bin[16];

	return inet_pton(AF_INET, name, bin) == 1 ||
	    inet_pton(AF_INET6, name, bin) == 1;
}

void
tls_start(struct smtpc_session *s)
{
	struct bufferevent *under = s->bev, *bev;
	struct evbuffer *in = bufferevent_get_input(under);
	SSL *ssl;

	/* Nothing the server sent before the handshake may count. */
	evbuffer_drain(in, evbuffer_get_length(in));
	if ((ssl = SSL_new(smtpc.tls_ctx)) == NULL)
		log_fatal("SSL_new failed");
	if (s->name != NULL && !is_ip(s->name))
		SSL_set_tlsext_host_name(ssl, s->name);
	bufferevent_setcb(under, NULL, NULL, NULL, NULL);
	bev = bufferevent_openssl_filter_new(smtpc.base, under, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		log_fatal("bufferevent_openssl_filter_new failed");
	s->bev = bev;
	session_set_callbacks(s);
	session_enter(s, SS_TLS, smtpc.helo_timeout);
}

/* How far the server certificate of SSL checks out against NAME:
   0 none, 1 untrusted, 2 trusted chain, 3 chain and name. */
static int
peer_trust(SSL *ssl, const char *name)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	int trust;

	if (cert == NULL)
		return 0;
	if (SSL_get_verify_result(ssl) != X509_V_OK)
		trust = 1;
	else if (name == NULL)
		trust = 2;
	else if (is_ip(name))
		trust = X509_check_ip_asc(cert, name, 0) == 1 ? 3 : 2;
	else
		trust = X509_check_host(cert, name, 0, 0, NULL) == 1 ? 3 : 2;
	X509_free(cert);
	return trust;
}

void
tls_connected(struct smtpc_session *s)
{
	static const char *words[] = { "Anonymous", "Untrusted", "Trusted",
	    "Verified" };
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	const char *qid = s->d != NULL ? s->d->req.queue_id : "";
	int trust = peer_trust(ssl, s->tls_name);
	char *desc = tls_describe(ssl), *text;

	log_info("%s: %s TLS connection established to %s: %s", qid,
	    words[trust], s->relay, desc);
	free(desc);
	s->tls = true;
	if (smtpc.tls_level >= TLS_LEVEL_VERIFY && trust < 3) {
		text = xasprintf("Server certificate not %s", trust < 2 ?
		    "trusted" : "verified");
		log_info("%s: %s: %s", qid, s->relay, text);
		session_fail(s, 4, "4.7.5", text);
		free(text);
		return;
	}
	/* Forget what EHLO said in plaintext and ask again. */
	s->feats = 0;
	session_send(s, true, "%s %s", s->lmtp ? "LHLO" : "EHLO",
	    smtpc.helo_name);
	session_enter(s, SS_EHLO, smtpc.helo_timeout);
}
