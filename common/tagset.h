/* tagset.h - k6-style tags on requests: the canonical text of one tag set ("kind=api,scenario=buy": pairs
 * sorted by key, joined by ','), the rules a tag obeys (the same in the Lua prelude, which builds the set
 * per request, and here, where options and the wire are checked), matching a threshold's selector
 * against a set, and the JSON form ({"kind": "api"}) used by intervals.jsonl and summary.json. */
#ifndef LOADCTL_TAGSET_H
#define LOADCTL_TAGSET_H

#include <jansson.h>
#include <lua.h>
#include <stddef.h>

#define TAGSET_MAX_TAGS 8   /* tags in one set (run + scenario + group + request together) */
#define TAGSET_KEY_MAX 32   /* bytes of a key: letters, digits and _, not starting with a digit */
#define TAGSET_VALUE_MAX 64 /* bytes of a value: any text but control characters and , = { } */
#define TAGSET_MAX (TAGSET_MAX_TAGS * (TAGSET_KEY_MAX + 1 + TAGSET_VALUE_MAX + 1)) /* bytes with NUL */

/* The key or value [text, text + len) breaks the rules: a message saying why (static storage), or NULL. */
const char *tagset_bad_key(const char *text, size_t len);
const char *tagset_bad_value(const char *text, size_t len);

/* set is canonical: pairs "k=v" that obey the rules, keys strictly ascending, at most TAGSET_MAX_TAGS,
 * not empty. 1 or 0. */
int tagset_valid(const char *set);

/* Every pair of filter (canonical, or a sorted subset) is in set. An empty filter matches every set. */
int tagset_contains(const char *set, const char *filter);

/* Add key=value to the canonical set in buf (replacing key's value), keeping it canonical. 0, -E2BIG
 * (more than TAGSET_MAX_TAGS or no room in size) or -EINVAL (a pair breaks the rules). */
int tagset_put(char *buf, size_t size, const char *key, const char *value);

/* The pair at *p (a position in a canonical set) as spans; advances *p past it. 0 at the end, else 1. */
int tagset_next(const char **p, const char **key, size_t *klen, const char **value, size_t *vlen);

/* {"k": "v", ...} for set; NULL on -ENOMEM. */
json_t *tagset_json(const char *set);
/* The canonical set of a JSON object of string values into buf. 0 or -EINVAL/-E2BIG. */
int tagset_from_json(const json_t *o, char *buf, size_t size);

/* The tags table at index idx of L (options.tags, a scenario's tags) into buf, canonical. The keys
 * "name", "group" and "scenario" are the runtime's own and refused. 0, or -EINVAL with why (no file:line;
 * the caller adds it). A nil value is an empty set. */
int tagset_from_lua(lua_State *L, int idx, char *buf, size_t size, char *why, size_t whylen);

/* options.tags and the tags of each scenario of options.scenarios (the options table at index t; a
 * scenario's name must also be a valid tag value, it becomes scenario=NAME). 0, or -EINVAL with why and
 * *key the option to blame ("tags" or "scenarios"). */
int tagset_read_options(lua_State *L, int t, const char **key, char *why, size_t whylen);

#endif
