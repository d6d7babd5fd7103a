/* tagset.c - canonical tag sets: the rules, matching, building and the JSON and Lua forms (see tagset.h). */
#include "common/tagset.h"

#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

static const char *const reserved[] = {"name", "group", "scenario"};

const char *tagset_bad_key(const char *text, size_t len) {
  if (len == 0 || len > TAGSET_KEY_MAX || isdigit((unsigned char)text[0]))
    return "a tag key is 1 to 32 letters, digits and _, not starting with a digit";
  for (size_t i = 0; i < len; i++)
    if (!isalnum((unsigned char)text[i]) && text[i] != '_')
      return "a tag key is 1 to 32 letters, digits and _, not starting with a digit";
  return NULL;
}

const char *tagset_bad_value(const char *text, size_t len) {
  if (len == 0 || len > TAGSET_VALUE_MAX) return "a tag value is a string of 1 to 64 bytes";
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 || c == 0x7f || c == ',' || c == '=' || c == '{' || c == '}')
      return "a tag value may not hold control characters or any of , = { }";
  }
  return NULL;
}

int tagset_next(const char **p, const char **key, size_t *klen, const char **value, size_t *vlen) {
  const char *s = *p, *eq, *end;
  if (!s || !*s) return 0;
  end = strchr(s, ',');
  if (!end) end = s + strlen(s);
  eq = memchr(s, '=', (size_t)(end - s));
  *key = s;
  *klen = eq ? (size_t)(eq - s) : (size_t)(end - s);
  *value = eq ? eq + 1 : end;
  *vlen = eq ? (size_t)(end - eq - 1) : 0;
  *p = *end ? end + 1 : end;
  return 1;
}

/* Compare key spans bytewise, the shorter first on a tie (strcmp's order). */
static int key_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  return c ? c : (alen > blen) - (alen < blen);
}

int tagset_valid(const char *set) {
  const char *p = set, *k, *v, *prev = NULL;
  size_t kl, vl, prevlen = 0;
  int n = 0;

  if (!set || !*set || strlen(set) >= TAGSET_MAX) return 0;
  while (tagset_next(&p, &k, &kl, &v, &vl)) {
    if (k[kl] != '=' || tagset_bad_key(k, kl) || tagset_bad_value(v, vl) || ++n > TAGSET_MAX_TAGS) return 0;
    if (prev && key_cmp(prev, prevlen, k, kl) >= 0) return 0;
    prev = k, prevlen = kl;
  }
  return p[-1] != ',';
}

/* The pair key=value [pair, pair + len) is in set. */
static int has_pair(const char *set, const char *pair, size_t len) {
  const char *p = set, *k, *v;
  size_t kl, vl;
  while (tagset_next(&p, &k, &kl, &v, &vl))
    if (kl + 1 + vl == len && !memcmp(k, pair, len)) return 1;
  return 0;
}

int tagset_contains(const char *set, const char *filter) {
  const char *p = filter, *k, *v;
  size_t kl, vl;
  while (tagset_next(&p, &k, &kl, &v, &vl))
    if (!set || !has_pair(set, k, kl + 1 + vl)) return 0;
  return 1;
}

int tagset_put(char *buf, size_t size, const char *key, const char *value) {
  char out[TAGSET_MAX];
  const char *p = buf, *k, *v;
  size_t kl, vl, used = 0, klen = strlen(key), vlen = strlen(value);
  int placed = 0, n = 0, len;

  if (tagset_bad_key(key, klen) || tagset_bad_value(value, vlen)) return -EINVAL;
  out[0] = 0;
  for (int more = 1; more;) {
    more = tagset_next(&p, &k, &kl, &v, &vl);
    int cmp = more ? key_cmp(k, kl, key, klen) : 1;
    if (!placed && cmp >= 0) {
      len = snprintf(out + used, sizeof out - used, "%s%s=%s", used ? "," : "", key, value);
      if (len < 0 || (size_t)len >= sizeof out - used) return -E2BIG;
      used += (size_t)len, placed = 1, n++;
      if (more && cmp == 0) continue; /* key's old value is replaced */
    }
    if (!more) break;
    len = snprintf(out + used, sizeof out - used, "%s%.*s=%.*s", used ? "," : "", (int)kl, k, (int)vl, v);
    if (len < 0 || (size_t)len >= sizeof out - used) return -E2BIG;
    used += (size_t)len, n++;
  }
  if (n > TAGSET_MAX_TAGS || used >= size) return -E2BIG;
  memcpy(buf, out, used + 1);
  return 0;
}

json_t *tagset_json(const char *set) {
  json_t *o = json_object();
  const char *p = set, *k, *v;
  size_t kl, vl;
  char key[TAGSET_KEY_MAX + 1];

  while (o && tagset_next(&p, &k, &kl, &v, &vl)) {
    if (kl > TAGSET_KEY_MAX) continue;
    memcpy(key, k, kl);
    key[kl] = 0;
    json_object_set_new(o, key, json_stringn(v, vl));
  }
  return o;
}

int tagset_from_json(const json_t *o, char *buf, size_t size) {
  const char *key;
  json_t *value;
  int rc;

  if (!json_is_object(o) || size == 0) return -EINVAL;
  buf[0] = 0;
  json_object_foreach((json_t *)o, key, value) {
    if (!json_is_string(value)) return -EINVAL;
    if ((rc = tagset_put(buf, size, key, json_string_value(value))) < 0) return rc;
  }
  return 0;
}

/* why <- "tag 'key': reason"; returns -EINVAL. */
static int refuse(char *why, size_t whylen, const char *key, const char *reason) {
  snprintf(why, whylen, "tag '%s': %s", key, reason);
  return -EINVAL;
}

/* The pair at L's stack top (key -2, value -1) into buf. 0 or -EINVAL with why. */
static int put_lua_pair(lua_State *L, char *buf, size_t size, char *why, size_t whylen) {
  const char *key, *value, *bad;
  size_t klen, vlen;

  if (lua_type(L, -2) != LUA_TSTRING)
    return refuse(why, whylen, luaL_typename(L, -2), "tag keys must be strings (tags = {kind = \"api\"})");
  key = lua_tolstring(L, -2, &klen);
  if ((bad = tagset_bad_key(key, klen))) return refuse(why, whylen, key, bad);
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (!strcmp(key, reserved[i]))
      return refuse(why, whylen, key, "is set by loadctl itself; pick another key");
  if (lua_type(L, -1) != LUA_TSTRING) return refuse(why, whylen, key, "the value must be a string");
  value = lua_tolstring(L, -1, &vlen);
  if ((bad = tagset_bad_value(value, vlen))) return refuse(why, whylen, key, bad);
  if (tagset_put(buf, size, key, value) < 0) {
    snprintf(why, whylen, "more than %d tags in one set", TAGSET_MAX_TAGS);
    return -EINVAL;
  }
  return 0;
}

int tagset_from_lua(lua_State *L, int idx, char *buf, size_t size, char *why, size_t whylen) {
  buf[0] = 0;
  if (lua_isnil(L, idx)) return 0;
  if (!lua_istable(L, idx)) {
    snprintf(why, whylen, "tags must be a table of string keys and values, not a %s", luaL_typename(L, idx));
    return -EINVAL;
  }
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (put_lua_pair(L, buf, size, why, whylen) < 0) {
      lua_pop(L, 2);
      return -EINVAL;
    }
    lua_pop(L, 1);
  }
  return 0;
}

/* The tags of each scenario in options.scenarios (at index t), and its name as the value of the tag
 * scenario=NAME. 0 or -EINVAL with why. */
static int scenario_tags(lua_State *L, int t, char *why, size_t whylen) {
  char set[TAGSET_MAX], inner[128];
  const char *bad;
  int rc = 0;
  lua_pushnil(L);
  while (rc == 0 && lua_next(L, t)) {
    size_t len;
    const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
    if (name && (bad = tagset_bad_value(name, len)))
      snprintf(why, whylen, "scenario '%s': its name is the value of the tag scenario=NAME: %s", name, bad),
          rc = -EINVAL;
    if (rc == 0 && name && lua_istable(L, -1)) {
      lua_getfield(L, -1, "tags");
      if (tagset_from_lua(L, -1, set, sizeof set, inner, sizeof inner) < 0)
        snprintf(why, whylen, "scenario '%s': %s", name, inner), rc = -EINVAL;
      lua_pop(L, 1);
    }
    lua_pop(L, rc == 0 ? 1 : 2);
  }
  return rc;
}

int tagset_read_options(lua_State *L, int t, const char **key, char *why, size_t whylen) {
  char set[TAGSET_MAX];
  lua_getfield(L, t, "tags");
  int rc = tagset_from_lua(L, -1, set, sizeof set, why, whylen);
  lua_pop(L, 1);
  *key = "tags";
  lua_getfield(L, t, "scenarios");
  if (rc == 0 && lua_istable(L, -1) && (rc = scenario_tags(L, lua_gettop(L), why, whylen)) < 0)
    *key = "scenarios";
  lua_pop(L, 1);
  return rc;
}
