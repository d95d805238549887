/*
 * pop3d: the POP3 server.  Everything before login, and the hand-over to
 * a mail process running as the mailbox owner, is the shared login side
 * (src/mra); the POP3 engine serves the logged-in session.
 */

#include "config.h"

#include "mra/mra.h"
#include "pop3d/pop3.h"

int
main(int argc, char **argv)
{
	return mra_main("pop3", argc, argv, pop3_engine);
}
