"""store.py - tickets in one sqlite file (WAL, synchronous=NORMAL, as the sqlite docs suggest for a web app),
through one connection that every request thread shares: sqlite3 connections must not be used by two
threads at once, so every use holds DB_LOCK.

Planted fault (variant desk_bulk): bulk_set_status commits each ticket's change on its own ("a bad ticket
must not roll back the others"), a few hundred commits while it holds DB_LOCK, so every other request
queues for the connection. With the fault off the change is one transaction."""

import os
import random
import sqlite3
import threading
import time
from contextlib import contextmanager

from . import config

COMMIT_EACH = config.planted("desk_bulk")
DB_LOCK = threading.Lock()
_conn = None
QUEUES = ["billing", "login", "shipping", "returns", "api", "mobile", "sso", "general"]


def open_db(path, tickets=24000):
    global _conn
    _conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    _conn.execute("PRAGMA journal_mode=WAL")
    _conn.execute("PRAGMA synchronous=NORMAL")
    _conn.executescript("""
        CREATE TABLE tickets (id INTEGER PRIMARY KEY, workspace INTEGER, queue TEXT, status TEXT,
                              subject TEXT, body TEXT, updated REAL);
        CREATE INDEX tickets_queue ON tickets (queue, status);
        CREATE TABLE comments (id INTEGER PRIMARY KEY, ticket INTEGER, author TEXT, body TEXT, at REAL);
        CREATE INDEX comments_ticket ON comments (ticket);
        CREATE TABLE history (id INTEGER PRIMARY KEY, ticket INTEGER, actor TEXT, change TEXT, at REAL);""")
    rnd = random.Random(7)
    with transaction() as db:
        db.executemany("INSERT INTO tickets (workspace, queue, status, subject, body, updated) VALUES (?,?,?,?,?,?)",
                       ((rnd.randrange(200), rnd.choice(QUEUES), rnd.choice(["open", "open", "resolved"]),
                         "ticket %d" % i, "details of ticket %d" % i, time.time()) for i in range(tickets)))


@contextmanager
def connection():
    with DB_LOCK:
        yield _conn


@contextmanager
def transaction():
    with connection() as db:
        db.execute("BEGIN")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def ticket(tid):
    with connection() as db:
        row = db.execute("SELECT id, queue, status, subject, body FROM tickets WHERE id = ?", (tid,)).fetchone()
        if row is None:
            return None
        comments = db.execute("SELECT author, body, at FROM comments WHERE ticket = ? ORDER BY id DESC LIMIT 20",
                              (tid,)).fetchall()
    return {"id": row[0], "queue": row[1], "status": row[2], "subject": row[3], "body": row[4],
            "comments": [{"author": a, "body": b, "at": at} for a, b, at in comments]}


def add_comment(tid, author, body):
    with transaction() as db:
        cur = db.execute("INSERT INTO comments (ticket, author, body, at) VALUES (?,?,?,?)", (tid, author, body, time.time()))
        db.execute("UPDATE tickets SET updated = ? WHERE id = ?", (time.time(), tid))
        return cur.lastrowid


def create(workspace, queue, subject, body):
    with transaction() as db:
        return db.execute("INSERT INTO tickets (workspace, queue, status, subject, body, updated) VALUES (?,?,?,?,?,?)",
                          (workspace, queue, "open", subject, body, time.time())).lastrowid


def queue_tickets(queue, status, limit):
    with connection() as db:
        return [r[0] for r in db.execute("SELECT id FROM tickets WHERE queue = ? AND status = ? LIMIT ?",
                                         (queue, status, limit))]


def _set_status(db, tid, status, actor):
    db.execute("UPDATE tickets SET status = ?, updated = ? WHERE id = ?", (status, time.time(), tid))
    db.execute("INSERT INTO history (ticket, actor, change, at) VALUES (?,?,?,?)", (tid, actor, "status=" + status, time.time()))


def bulk_set_status(ids, status, actor):
    """Sets the status of many tickets, each ticket's change committed on its own (COMMIT_EACH)."""
    if not COMMIT_EACH:
        with transaction() as db:
            for tid in ids:
                _set_status(db, tid, status, actor)
        return len(ids)
    with connection() as db:
        for tid in ids:
            db.execute("BEGIN")
            _set_status(db, tid, status, actor)
            db.execute("COMMIT")
    return len(ids)
