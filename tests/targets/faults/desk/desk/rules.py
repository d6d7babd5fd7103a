"""rules.py - routing a new ticket to a queue by regular-expression rules on its subject and body: the
default rules, compiled once, or a workspace's own (its admins edit them in the settings page).

Planted fault (variant desk_rules): custom_rules compiles the workspace's rules on every ticket, trusting
re's pattern cache; with ~1 700 custom patterns across workspaces, more than that cache's 512, almost
every compile is a real one (~10-30 ms of pure-Python sre parsing per ticket). With the fault off the
compiled rules are kept per workspace and rules version."""

import random
import re

from . import config

COMPILE_EACH_TIME = config.planted("desk_rules")
DEFAULT_RULES = [(q, re.compile(p, re.IGNORECASE)) for q, p in [
    ("billing", r"\b(invoice|refund|charge ?back|vat|receipt)\b"),
    ("login", r"\b(password|log ?in|2fa|locked out)\b"),
    ("shipping", r"\b(parcel|tracking|courier|delivery)\b"),
    ("returns", r"\b(return|exchange|rma)\b"),
    ("api", r"\b(api|webhook|rate limit|429|token)\b"),
]]
WORDS = ["refund", "invoice", "delivery", "broken", "urgent", "contract", "renewal", "export", "import",
         "outage", "latency", "mobile", "android", "ios", "sso", "saml", "okta", "quota", "storage", "backup"]


def _workspace_rules(ws, n=100):
    """What the settings page stored for a workspace with custom routing: one rule per line."""
    rnd = random.Random(ws)
    rules = []
    for i in range(n):
        a, b, c = rnd.sample(WORDS, 3)
        rules.append(("q%d-%d" % (ws, i % 6),
                      r"\b(%s|%s)\W+(?:\w+\W+){0,%d}?(%s|case\s*#?%d)\b" % (a, b, 2 + i % 4, c, ws * 1000 + i)))
    return rules


# every 12th workspace routes with its own rules
CUSTOM = {ws: (1, _workspace_rules(ws)) for ws in range(0, 200, 12)}
_compiled = {}


def custom_rules(ws):
    version, rules = CUSTOM[ws]
    if not COMPILE_EACH_TIME:
        got = _compiled.get(ws)
        if got and got[0] == version:
            return got[1]
    out = []
    for queue, pattern in rules:
        out.append((queue, re.compile(pattern, re.IGNORECASE)))
    _compiled[ws] = (version, out)
    return out


def warm():
    """Compiles every workspace's rules once before the service answers (the start of its cache)."""
    for ws in CUSTOM:
        custom_rules(ws)


def route(ws, subject, body):
    """The queue a new ticket goes to: the first rule that matches, or general."""
    text = subject + "\n" + body
    for queue, rx in custom_rules(ws) if ws in CUSTOM else DEFAULT_RULES:
        if rx.search(text):
            return queue
    return "general"
