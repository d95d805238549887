/*
 * The POP3 engine's mailbox side: INBOX as it was at login, and the
 * changes a session makes to it (\Seen, and the deletions at QUIT).
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/cfg.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mailstore/mailstore.h"
#include "pop3d/pop3_int.h"

/* Give message SEQ \Seen.  A failure is only logged: it is no reason to
   keep the deletions. */
static void
msg_mark_seen(struct pop3 *p, uint32_t seq)
{
	char *error = NULL;

	if (mbox_store(p->mbox, seq, MBOX_FLAGS_ADD, MF_SEEN, 0,
	    &error) < 0) {
		log_warning("pop3(%s): marking message %u seen: %s",
		    p->s->user, seq, error);
		free(error);
	}
}

/*
 * Apply the session's changes to INBOX: \Seen on what was retrieved,
 * and with EXPUNGE (QUIT) the removal of what was deleted.  Returns 0,
 * or -1 when the deletions failed.
 */
int
pop3_mailbox_update(struct pop3 *p, bool expunge)
{
	uint32_t *uids = xcalloc(p->count + 1, sizeof(*uids));
	size_t n = 0;
	char *error = NULL;
	uint32_t i, seq;

	if (mbox_sync(p->mbox, NULL, &error) < 0)
		goto fail;
	for (i = 0; i < p->count; i++) {
		struct pop3_msg *m = &p->msgs[i];
		bool del = expunge && m->deleted;

		if ((!del && !m->seen) ||
		    (seq = mbox_seq_of_uid(p->mbox, m->uid)) == 0)
			continue;
		if (!del) {
			msg_mark_seen(p, seq);
			continue;
		}
		if (mbox_store(p->mbox, seq, MBOX_FLAGS_ADD, MF_DELETED, 0,
		    &error) < 0)
			goto fail;
		uids[n++] = m->uid;
	}
	if (n > 0 && mbox_expunge(p->mbox, uids, n, NULL, &error) < 0)
		goto fail;
	p->expunged = (unsigned)n;
	free(uids);
	return 0;
fail:
	log_error("pop3(%s): updating INBOX: %s", p->s->user, error);
	free(error);
	free(uids);
	return -1;
}

/* Open INBOX and take its message list as it is now.  Returns 0, or -1
   with an error logged. */
int
pop3_mailbox_open(struct pop3 *p)
{
	char *error = NULL;
	uint32_t seq;

	if (mstore_open(p->s->mail, &p->store, &error) < 0 ||
	    mbox_open(p->store, "INBOX", false, &p->mbox, &error) < 0) {
		log_error("pop3(%s): Couldn't open INBOX in %s: %s",
		    p->s->user, p->s->mail, error);
		free(error);
		return -1;
	}
	p->uidvalidity = mbox_uidvalidity(p->mbox);
	p->count = mbox_count(p->mbox);
	p->msgs = xcalloc(p->count + 1, sizeof(*p->msgs));
	for (seq = 1; seq <= p->count; seq++) {
		const struct mmsg *m = mbox_msg(p->mbox, seq);

		p->msgs[seq - 1].uid = m->uid;
		p->msgs[seq - 1].size = m->size;
		p->size += m->size;
	}
	return 0;
}

/* The UIDL format to use: pop3_uidl_format, or Dovecot's default when
   the configured one cannot give valid UIDLs. */
const char *
pop3_uidl_format(const struct mra_session *s)
{
	static const char def[] = "%08Xu%08Xv";
	const char *fmt = cfg_str(s->cfg, "pop3_uidl_format"), *error;
	char buf[POP3_UIDL_MAX + 1];

	if (pop3_uidl_expand(fmt, UINT32_MAX, UINT32_MAX, buf, &error) < 0 ||
	    pop3_uidl_expand(fmt, 1, 1, buf, &error) < 0) {
		log_warning("pop3_uidl_format = %s: %s; using %s", fmt,
		    error, def);
		return def;
	}
	return fmt;
}
