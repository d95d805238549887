/*
 * The IMAP command grammar: framing commands with their literals, parsing
 * them into argument trees, and sequence sets.
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "imapd/imap_parse.h"
#include "lib/xalloc.h"

bool
imap_arg_is_astring(const struct imap_arg *a)
{
	return a != NULL && (a->type == IMAP_ARG_ATOM ||
	    a->type == IMAP_ARG_STRING || a->type == IMAP_ARG_LITERAL);
}

bool
imap_arg_is_string(const struct imap_arg *a)
{
	return imap_arg_is_astring(a);
}

bool
imap_arg_atom_eq(const struct imap_arg *a, const char *word)
{
	return a != NULL && a->type == IMAP_ARG_ATOM &&
	    strcasecmp(a->str, word) == 0;
}

/* The parser's position in a framed command. */
struct parser {
	const char *p, *end;
	const char *error;
};

static void
args_free(struct imap_arg *args, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(args[i].str);
		args_free(args[i].list, args[i].count);
	}
	free(args);
}

static struct imap_arg *
args_add(struct imap_arg **args, size_t *count)
{
	/* Grow at powers of two: a long SEARCH stays linear. */
	if (*count == 0 || (*count >= 4 && (*count & (*count - 1)) == 0))
		*args = xreallocarray(*args, *count == 0 ? 4 : *count * 2,
		    sizeof(**args));
	memset(&(*args)[*count], 0, sizeof(**args));
	return &(*args)[(*count)++];
}

static bool
at_eol(const struct parser *ps)
{
	return ps->p >= ps->end || *ps->p == '\r' || *ps->p == '\n';
}

/* An atom character; "[" opens a section that runs to its "]" with
   spaces and parentheses allowed (BODY[HEADER.FIELDS (A B)]). */
static bool
is_atom_char(unsigned char c)
{
	return c > ' ' && c != 0x7f && c != '(' && c != ')' && c != '"';
}

static int
parse_atom(struct parser *ps, struct imap_arg *a)
{
	const char *start = ps->p;
	int depth = 0;

	while (ps->p < ps->end) {
		unsigned char c = (unsigned char)*ps->p;

		if (depth > 0) {
			if (c == '\r' || c == '\n' || c == '\0')
				break;
			if (c == ']')
				depth--;
			ps->p++;
			continue;
		}
		if (c == '[') {
			depth++;
			ps->p++;
			continue;
		}
		if (!is_atom_char(c) || (c == '{' && ps->p == start))
			break;
		ps->p++;
	}
	if (depth > 0) {
		ps->error = "Missing ']'";
		return -1;
	}
	if (ps->p == start) {
		ps->error = "Unexpected character";
		return -1;
	}
	a->type = IMAP_ARG_ATOM;
	a->len = (size_t)(ps->p - start);
	a->str = xstrndup(start, a->len);
	return 0;
}

static int
parse_quoted(struct parser *ps, struct imap_arg *a)
{
	struct str s = STR_INIT;

	ps->p++;
	while (ps->p < ps->end && *ps->p != '"') {
		char c = *ps->p++;

		if (c == '\r' || c == '\n' || c == '\0')
			break;
		if (c == '\\') {
			if (ps->p >= ps->end ||
			    (*ps->p != '\\' && *ps->p != '"')) {
				ps->error = "Bad escape in quoted string";
				str_free(&s);
				return -1;
			}
			c = *ps->p++;
		}
		str_append_c(&s, c);
	}
	if (ps->p >= ps->end || *ps->p != '"') {
		ps->error = "Missing '\"'";
		str_free(&s);
		return -1;
	}
	ps->p++;
	a->type = IMAP_ARG_STRING;
	a->len = s.len;
	a->str = s.s == NULL ? xstrdup("") : str_steal(&s);
	return 0;
}

/* Parse a literal size "{N}" or "{N+}" at S (after the "{"); the number
   of bytes consumed, or -1. */
static int
literal_size(const char *s, size_t len, uint64_t *size_r, bool *plus_r)
{
	uint64_t n = 0;
	size_t i = 0;

	while (i < len && isdigit((unsigned char)s[i])) {
		if (n > (UINT64_MAX - 9) / 10 || i >= 19)
			return -1;
		n = n * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	if (i == 0)
		return -1;
	*plus_r = i < len && s[i] == '+';
	if (*plus_r)
		i++;
	if (i >= len || s[i] != '}')
		return -1;
	*size_r = n;
	return (int)i + 1;
}

static int
parse_literal(struct parser *ps, struct imap_arg *a)
{
	uint64_t size;
	bool plus;
	int n = literal_size(ps->p + 1, (size_t)(ps->end - ps->p - 1),
	    &size, &plus);

	if (n < 0) {
		ps->error = "Bad literal size";
		return -1;
	}
	ps->p += 1 + n;
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p >= ps->end || *ps->p != '\n') {
		ps->error = "Missing line end after literal";
		return -1;
	}
	ps->p++;
	if (size > (uint64_t)(ps->end - ps->p)) {
		ps->error = "Literal shorter than announced";
		return -1;
	}
	a->type = IMAP_ARG_LITERAL;
	a->len = (size_t)size;
	/* A literal may hold NULs: copy every byte. */
	a->str = xmalloc(a->len + 1);
	memcpy(a->str, ps->p, a->len);
	a->str[a->len] = '\0';
	ps->p += a->len;
	return 0;
}

static int parse_list(struct parser *ps, struct imap_arg **args,
    size_t *count, int depth, bool top);

static int
parse_one(struct parser *ps, struct imap_arg *a, int depth)
{
	switch (*ps->p) {
	case '"':
		return parse_quoted(ps, a);
	case '{':
		return parse_literal(ps, a);
	case '(':
		if (depth + 1 > IMAP_MAX_NESTING) {
			ps->error = "Too deep nesting of lists";
			return -1;
		}
		ps->p++;
		a->type = IMAP_ARG_LIST;
		return parse_list(ps, &a->list, &a->count, depth + 1, false);
	default:
		return parse_atom(ps, a);
	}
}

/* Parse arguments separated by single spaces up to ")" (a list) or the
   end of the line (TOP). */
static int
parse_list(struct parser *ps, struct imap_arg **args, size_t *count,
    int depth, bool top)
{
	for (;;) {
		if (at_eol(ps)) {
			if (top)
				return 0;
			ps->error = "Missing ')'";
			return -1;
		}
		if (*ps->p == ')') {
			if (top) {
				ps->error = "Unexpected ')'";
				return -1;
			}
			ps->p++;
			return 0;
		}
		/* Elements are separated by one space. */
		if (*count > 0) {
			if (*ps->p != ' ') {
				ps->error = "Missing space";
				return -1;
			}
			ps->p++;
			if (at_eol(ps) && top)
				return 0;
		}
		if (parse_one(ps, args_add(args, count), depth) < 0)
			return -1;
	}
}

/* Read a word up to a space: the tag or the command name. */
static char *
parse_word(struct parser *ps)
{
	const char *start = ps->p;

	while (ps->p < ps->end && is_atom_char((unsigned char)*ps->p) &&
	    *ps->p != '[' && *ps->p != ']' && *ps->p != '%' && *ps->p != '*')
		ps->p++;
	if (ps->p == start)
		return NULL;
	return xstrndup(start, (size_t)(ps->p - start));
}

int
imap_parse(const char *cmd, size_t len, struct imap_cmd *out,
    const char **error_r)
{
	struct parser ps = { cmd, cmd + len, NULL };

	memset(out, 0, sizeof(*out));
	if ((out->tag = parse_word(&ps)) == NULL) {
		*error_r = "Missing tag";
		return -1;
	}
	if (ps.p >= ps.end || *ps.p != ' ') {
		*error_r = "Missing command";
		return -1;
	}
	ps.p++;
	if ((out->name = parse_word(&ps)) == NULL) {
		*error_r = "Missing command";
		return -1;
	}
	for (char *c = out->name; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	if (!at_eol(&ps)) {
		if (*ps.p != ' ') {
			*error_r = "Unexpected character after command";
			return -1;
		}
		ps.p++;
		if (parse_list(&ps, &out->args, &out->count, 0, true) < 0) {
			*error_r = ps.error;
			return -1;
		}
	}
	if (ps.p < ps.end && *ps.p == '\r')
		ps.p++;
	if (ps.p < ps.end && *ps.p == '\n')
		ps.p++;
	if (ps.p != ps.end) {
		*error_r = "Garbage after command";
		return -1;
	}
	return 0;
}

void
imap_cmd_free(struct imap_cmd *cmd)
{
	free(cmd->tag);
	free(cmd->name);
	args_free(cmd->args, cmd->count);
	memset(cmd, 0, sizeof(*cmd));
}

void
imap_reader_init(struct imap_reader *r, size_t max_line, uint64_t max_append)
{
	memset(r, 0, sizeof(*r));
	r->max_line = max_line;
	r->max_append = max_append;
}

void
imap_reader_reset(struct imap_reader *r)
{
	str_truncate(&r->cmd, 0);
	r->text_len = 0;
	r->literal_left = 0;
	r->is_append = false;
	r->toobig = false;
	strcpy(r->tag, "*");
}

void
imap_reader_free(struct imap_reader *r)
{
	str_free(&r->cmd);
}

/* Note the tag and whether this is APPEND from the command's first
   line. */
static void
first_line(struct imap_reader *r, const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	size_t tlen = sp == NULL ? 0 : (size_t)(sp - line);

	strcpy(r->tag, "*");
	if (tlen > 0 && tlen < sizeof(r->tag)) {
		memcpy(r->tag, line, tlen);
		r->tag[tlen] = '\0';
		for (size_t i = 0; i < tlen; i++)
			if (!is_atom_char((unsigned char)line[i]))
				strcpy(r->tag, "*");
	}
	r->is_append = sp != NULL && len - tlen > 7 &&
	    strncasecmp(sp + 1, "APPEND ", 7) == 0;
}

/*
 * The line just read ends in a literal announcement: check its size
 * against the limits.  Returns CONTINUE (synchronizing), MORE (LITERAL+),
 * REFUSE or FATAL.
 */
static enum imap_reader_result
literal_start(struct imap_reader *r, const char *line, size_t len,
    const char **error_r)
{
	const char *open = NULL;
	uint64_t size, limit;
	bool plus;

	for (size_t i = len; i > 0; i--)
		if (line[i - 1] == '{') {
			open = line + i - 1;
			break;
		}
	if (open == NULL || literal_size(open + 1, len - (size_t)(open -
	    line) - 1, &size, &plus) != (int)(len - (size_t)(open - line) -
	    1)) {
		/* Not a literal after all: the parser will judge. */
		return IMAP_READER_DONE;
	}
	limit = r->is_append ? r->max_append : r->max_line;
	if (limit == 0)
		limit = UINT32_MAX;
	/* Literals other than APPEND's count towards the command's
	   length, so that many of them cannot add up to a large command. */
	if (size > limit || size >= UINT32_MAX ||
	    (!r->is_append && r->text_len + size > r->max_line)) {
		r->toobig = r->is_append;
		*error_r = r->is_append ? "Message too large" :
		    "Literal too large";
		if (plus) {
			*error_r = "Too large non-synchronizing literal";
			return IMAP_READER_FATAL;
		}
		return IMAP_READER_REFUSE;
	}
	r->literal_left = size;
	if (!r->is_append)
		r->text_len += (size_t)size;
	return plus ? IMAP_READER_MORE : IMAP_READER_CONTINUE;
}

/* Move up to LEN bytes of IN to the end of R's command. */
static void
take(struct imap_reader *r, struct evbuffer *in, size_t len)
{
	char *tmp = xmalloc(len);
	int n = evbuffer_remove(in, tmp, len);

	if (n > 0)
		str_append_n(&r->cmd, tmp, (size_t)n);
	free(tmp);
}

/* Read what has come of a literal. */
static void
literal_read(struct imap_reader *r, struct evbuffer *in)
{
	size_t avail = evbuffer_get_length(in);
	size_t n = avail < r->literal_left ? avail : (size_t)r->literal_left;

	if (n == 0)
		return;
	take(r, in, n);
	r->literal_left -= n;
}

enum imap_reader_result
imap_reader_feed(struct imap_reader *r, struct evbuffer *in,
    const char **error_r)
{
	for (;;) {
		struct evbuffer_ptr eol;
		size_t eol_len, len, start;
		enum imap_reader_result res;

		if (r->literal_left > 0) {
			literal_read(r, in);
			if (r->literal_left > 0)
				return IMAP_READER_MORE;
		}
		eol = evbuffer_search_eol(in, NULL, &eol_len,
		    EVBUFFER_EOL_CRLF);
		if (eol.pos < 0) {
			if (r->text_len + evbuffer_get_length(in) >
			    r->max_line) {
				*error_r = "Too long command line";
				return IMAP_READER_FATAL;
			}
			return IMAP_READER_MORE;
		}
		len = (size_t)eol.pos;
		if (r->text_len + len > r->max_line) {
			*error_r = "Too long command line";
			return IMAP_READER_FATAL;
		}
		start = r->cmd.len;
		take(r, in, len);
		evbuffer_drain(in, eol_len);
		str_append_n(&r->cmd, "\r\n", 2);
		if (r->text_len == 0)
			first_line(r, r->cmd.s + start, len);
		r->text_len += len + 2;
		if (len == 0 || r->cmd.s[start + len - 1] != '}')
			return IMAP_READER_DONE;
		res = literal_start(r, r->cmd.s + start, len, error_r);
		if (res == IMAP_READER_MORE && r->literal_left == 0)
			continue;
		if (res != IMAP_READER_MORE || evbuffer_get_length(in) == 0)
			return res;
	}
}

static int
seq_number(const char **p, uint32_t *n_r)
{
	uint64_t n = 0;
	const char *s = *p;

	if (*s == '*') {
		*n_r = 0;
		*p = s + 1;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return -1;
	while (isdigit((unsigned char)*s)) {
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > UINT32_MAX)
			return -1;
		s++;
	}
	*n_r = (uint32_t)n;
	*p = s;
	return 0;
}

int
imap_seqset_parse(const char *s, struct imap_seqset *set_r)
{
	memset(set_r, 0, sizeof(*set_r));
	if (*s == '\0')
		return -1;
	for (;;) {
		struct imap_range r;

		if (seq_number(&s, &r.lo) < 0)
			goto bad;
		r.hi = r.lo;
		if (*s == ':') {
			s++;
			if (seq_number(&s, &r.hi) < 0)
				goto bad;
		}
		set_r->ranges = xreallocarray(set_r->ranges,
		    set_r->count + 1, sizeof(r));
		set_r->ranges[set_r->count++] = r;
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			goto bad;
	}
bad:
	imap_seqset_free(set_r);
	return -1;
}

void
imap_seqset_free(struct imap_seqset *set)
{
	free(set->ranges);
	set->ranges = NULL;
	set->count = 0;
}

bool
imap_seqset_has(const struct imap_seqset *set, uint32_t n, uint32_t max)
{
	for (size_t i = 0; i < set->count; i++) {
		uint32_t lo = set->ranges[i].lo == 0 ? max : set->ranges[i].lo;
		uint32_t hi = set->ranges[i].hi == 0 ? max : set->ranges[i].hi;

		if (lo > hi) {
			uint32_t t = lo;

			lo = hi;
			hi = t;
		}
		if (n >= lo && n <= hi)
			return true;
	}
	return false;
}
