#include "json.h"

void json_add_string(struct strbuf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (s == NULL) {
		strbuf_addstr(out, "null");
		return;
	}
	strbuf_addch(out, '"');
	for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
		switch (*p) {
		case '"':
			strbuf_addstr(out, "\\\"");
			break;
		case '\\':
			strbuf_addstr(out, "\\\\");
			break;
		case '\n':
			strbuf_addstr(out, "\\n");
			break;
		case '\t':
			strbuf_addstr(out, "\\t");
			break;
		case '\r':
			strbuf_addstr(out, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				strbuf_addstr(out, "\\u00");
				strbuf_addch(out, hex[*p >> 4]);
				strbuf_addch(out, hex[*p & 15]);
			} else {
				strbuf_addch(out, (char) *p);
			}
		}
	}
	strbuf_addch(out, '"');
}

void json_add_key(struct strbuf *out, const char *key)
{
	json_add_string(out, key);
	strbuf_addch(out, ':');
}
