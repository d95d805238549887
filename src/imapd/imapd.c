/*
 * imapd: the IMAP server.  Everything before login, and the hand-over to
 * a mail process running as the mailbox owner, is the shared login side
 * (src/mra); the IMAP engine serves the logged-in session.
 */

#include "config.h"

#include "mra/mra.h"

/* The IMAP engine (src/imapd/imap.h). */
mra_engine_fn imap_engine;

int
main(int argc, char **argv)
{
	return mra_main("imap", argc, argv, imap_engine);
}
