/* The line framing shared by both sides of the Dovecot auth protocols. */

#include "config.h"

#include <event2/buffer.h>

#include "global/authproto.h"

/* Take the next line out of IN, without its LF (and a CR before it). */
char *
authproto_next_line(struct evbuffer *in, size_t max_line, bool *too_long_r)
{
	struct evbuffer_ptr eol;
	size_t len;
	char *line;

	*too_long_r = false;
	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
	if (eol.pos < 0 ? evbuffer_get_length(in) >= max_line :
	    (size_t)eol.pos >= max_line) {
		*too_long_r = true;
		return NULL;
	}
	if (eol.pos < 0)
		return NULL;
	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line != NULL && len > 0 && line[len - 1] == '\r')
		line[len - 1] = '\0';
	return line;
}
