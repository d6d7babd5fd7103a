"""upstream.py - calls to the other services (inventory, the channel manager, reviews, rate plans), all
played by faultsvc's dependency process: GET /wait?ms=N answers a small JSON document after N ms."""

import json
import threading
import http.client
from urllib.parse import urlsplit

from . import config

_local = threading.local()


def call(path):
    """GET path on the upstream over this thread's keep-alive connection; the decoded JSON body."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = http.client.HTTPConnection(urlsplit(config.UPSTREAM).netloc, timeout=5)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        _local.conn = None
        raise
    if resp.status != 200:
        raise OSError("upstream %s: HTTP %d" % (path, resp.status))
    return json.loads(body)
