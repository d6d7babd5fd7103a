"""store.py - the catalogue in sqlite (one connection per thread). product_page has the planted N+1: one
query for the page, then one unindexed review count per product (each a scan of the reviews table);
with faults off, one grouped query."""

import os
import random
import sqlite3
import threading

from . import config

_local = threading.local()
_path = None


def init():
    """Create and fill the database file (once per process)."""
    global _path
    _path = os.path.join(config.DATA_DIR, "pyshop-%d.sqlite" % os.getpid())
    if os.path.exists(_path):
        os.unlink(_path)
    db = sqlite3.connect(_path)
    rng = random.Random(1)
    db.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT, cents INTEGER)")
    db.execute("CREATE TABLE reviews (id INTEGER PRIMARY KEY, product_id INTEGER, stars INTEGER)")  # no index
    db.executemany("INSERT INTO products VALUES (?, ?, ?)",
                   [(i, "Book %d" % i, rng.randint(500, 5000)) for i in range(1, config.PRODUCTS + 1)])
    db.executemany("INSERT INTO reviews (product_id, stars) VALUES (?, ?)",
                   [(rng.randint(1, config.PRODUCTS), rng.randint(1, 5)) for _ in range(config.REVIEWS)])
    db.commit()
    db.close()


def conn():
    c = getattr(_local, "conn", None)
    if c is None:
        c = _local.conn = sqlite3.connect(_path, check_same_thread=True)
    return c


def review_count(product_id):
    return conn().execute("SELECT COUNT(*) FROM reviews WHERE product_id = ?", (product_id,)).fetchone()[0]


def product_page(page):
    """One page of products with their review counts."""
    offset = (max(1, page) - 1) % (config.PRODUCTS // config.PAGE_SIZE) * config.PAGE_SIZE
    rows = conn().execute("SELECT id, title, cents FROM products ORDER BY id LIMIT ? OFFSET ?",
                          (config.PAGE_SIZE, offset)).fetchall()
    if "nplus1" in config.FAULTS:
        return [{"id": i, "title": t, "cents": c, "reviews": review_count(i)} for i, t, c in rows]
    counts = dict(conn().execute("SELECT product_id, COUNT(*) FROM reviews WHERE product_id BETWEEN ? AND ? "
                                 "GROUP BY product_id", (offset + 1, offset + config.PAGE_SIZE)).fetchall())
    return [{"id": i, "title": t, "cents": c, "reviews": counts.get(i, 0)} for i, t, c in rows]


def product(pid):
    row = conn().execute("SELECT id, title, cents FROM products WHERE id = ?", (pid,)).fetchone()
    return {"id": row[0], "title": row[1], "cents": row[2]} if row else None
