/* Parsing aliases(5) values, ~/.forward and :include: files. */

#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "delivery/alias.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* Append an item of KIND with VALUE (taken). */
static void
list_add(struct alias_list *list, enum alias_kind kind, char *value)
{
	list->items = xreallocarray(list->items, list->n + 1,
	    sizeof(*list->items));
	list->items[list->n].kind = kind;
	list->items[list->n].value = value;
	list->n++;
}

/* Remove the double quotes of WORD (in place): "a b" and |"a b". */
static void
unquote(char *word)
{
	char *r = word, *w = word;

	for (; *r != '\0'; r++) {
		if (*r == '"')
			continue;
		if (*r == '\\' && r[1] == '"')
			r++;
		*w++ = *r;
	}
	*w = '\0';
}

/* Classify the trimmed, unquoted WORD and add it.  0 or -1. */
static int
add_word(struct alias_list *list, char *word, const char **error_r)
{
	size_t len = strlen(word);

	if (*word == '|') {
		if (*str_trim(word + 1) == '\0') {
			*error_r = "empty command";
			return -1;
		}
		list_add(list, ALIAS_COMMAND, xstrdup(str_trim(word + 1)));
	} else if (strncmp(word, ":include:", 9) == 0) {
		char *path = str_trim(word + 9);

		if (*path != '/') {
			*error_r = ":include: needs an absolute path";
			return -1;
		}
		list_add(list, ALIAS_INCLUDE, xstrdup(path));
	} else if (*word == '/') {
		list_add(list, ALIAS_FILE, xstrdup(word));
	} else if (*word == '\\' && word[1] != '\0') {
		list_add(list, ALIAS_SELF, xstrdup(word + 1));
	} else {
		if (*word == '<' && len >= 2 && word[len - 1] == '>') {
			word[len - 1] = '\0';
			word++;
		}
		if (*word == '\0' || strpbrk(word, " \t<>") != NULL) {
			*error_r = "malformed address";
			return -1;
		}
		list_add(list, ALIAS_ADDRESS, xstrdup(word));
	}
	return 0;
}

/* Finish the word in W (if any).  0 or -1. */
static int
end_word(struct alias_list *list, struct str *w, const char **error_r)
{
	char *word;
	int ret = 0;

	if (w->len == 0)
		return 0;
	word = str_trim(w->s);
	if (*word != '\0') {
		/* Quotes go only after the kind is known from the first
		   character ("|cmd" or |"cmd"). */
		unquote(word);
		if (*str_trim(word) != '\0')
			ret = add_word(list, str_trim(word), error_r);
	}
	str_truncate(w, 0);
	return ret;
}

/* Skip a comment line that starts at P; return where the next starts. */
static const char *
skip_comment(const char *p)
{
	const char *q = p;

	while (*q == ' ' || *q == '\t')
		q++;
	if (*q != '#')
		return p;
	while (*q != '\n' && *q != '\0')
		q++;
	return q;
}

int
alias_parse(const char *text, struct alias_list *list, const char **error_r)
{
	struct str w = STR_INIT;
	bool quoted = false, line_start = true;
	const char *p;
	int ret = 0;

	for (p = text; *p != '\0' && ret == 0; p++) {
		if (line_start && !quoted) {
			p = skip_comment(p);
			if (*p == '\0')
				break;
		}
		line_start = *p == '\n';
		if (*p == '"')
			quoted = !quoted;
		if (*p == '\\' && p[1] == '"') {
			str_append_n(&w, p, 2);
			p++;
			continue;
		}
		if (!quoted && (*p == ',' || *p == '\n'))
			ret = end_word(list, &w, error_r);
		else
			str_append_c(&w, *p);
	}
	if (ret == 0 && quoted) {
		*error_r = "unterminated quote";
		ret = -1;
	}
	if (ret == 0)
		ret = end_word(list, &w, error_r);
	str_free(&w);
	return ret;
}

void
alias_list_clear(struct alias_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		free(list->items[i].value);
	free(list->items);
	list->items = NULL;
	list->n = 0;
}
