/*
 * imapd: the IMAP server.  Everything before login, and the hand-over to
 * a mail process running as the mailbox owner, is the shared login side
 * (src/mra); the IMAP engine serves the logged-in session.
 */

#include "config.h"

#include "imapd/imap.h"
#include "mra/mra.h"

int
main(int argc, char **argv)
{
	return mra_main("imap", argc, argv, imap_engine);
}
