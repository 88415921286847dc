/* json: the few pieces of JSON output the commands write (gpstate --json): escaped strings, keys. */
#ifndef SEGRECOVER_JSON_H
#define SEGRECOVER_JSON_H

#include "strbuf.h"

/* S as a JSON string: quoted, with '"', '\\' and every control character escaped; NULL is null. */
void json_add_string(struct strbuf *out, const char *s);

/* "KEY": followed by a string value, a number, a boolean, or null (NULL string); no comma. */
void json_add_key(struct strbuf *out, const char *key);

#endif
