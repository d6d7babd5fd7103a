"""audit.py - the booking audit trail: every change to a booking is a record in an append-only file
through the `inn.audit` logger, which the disputes team reads. Records at WARNING and above (policy
exceptions an agent granted) must not be lost in a crash.

Planted fault (variant inn_cancel): DurableFileHandler makes those records durable by fsync'ing the audit
file in emit, inside the handler's lock that every audit record of every request takes. With the fault off
the handler only flushes; the file is fsync'ed once a second by the log shipper (not part of this
service)."""

import logging
import os
import time

from . import config

log = logging.getLogger("inn.audit")


class DurableFileHandler(logging.FileHandler):
    """A FileHandler whose WARNING-and-above records are on disk when the request returns."""

    def emit(self, record):
        super().emit(record)
        if record.levelno >= logging.WARNING and config.planted("inn_cancel"):
            t0 = time.time()
            os.fsync(self.stream.fileno())
            config.record_span(t0, time.time())


def open_trail(path):
    handler = DurableFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
