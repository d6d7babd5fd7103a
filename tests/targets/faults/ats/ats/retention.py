"""retention.py - the data-retention sweep: applications rejected more than six months ago are erased
(notes deleted, the documents deleted from the document store, the candidate's address kept only as a
hash on the suppression list, a candidate with no other application anonymised and their CV deleted),
every few seconds by a thread of the worker, as the privacy team asked."""

import hashlib
import threading
import time

from . import config, db, docstore

EVERY = 6.0


def expired(c, now):
    return c.execute("SELECT a.id, a.candidate_id, c.email FROM applications a JOIN candidates c ON c.id = a.candidate_id "
                     "WHERE a.stage = 'rejected' AND a.created < ?", (now - db.RETENTION,)).fetchall()


def erase(c, row, now):
    digest = hashlib.sha256(row["email"].encode()).hexdigest()
    c.execute("INSERT INTO erasures (application_id, email_hash, erased) VALUES (?,?,?)", (row["id"], digest, now))
    c.execute("DELETE FROM notes WHERE application_id = ?", (row["id"],))
    c.execute("DELETE FROM applications WHERE id = ?", (row["id"],))
    if c.execute("SELECT 1 FROM applications WHERE candidate_id = ? LIMIT 1", (row["candidate_id"],)).fetchone() is None:
        c.execute("UPDATE candidates SET name = '', email = ?, skills = '', headline = '' WHERE id = ?",
                  (digest, row["candidate_id"]))
        c.execute("DELETE FROM resumes WHERE candidate_id = ?", (row["candidate_id"],))


def purge_expired():
    """One transaction for the whole sweep, the documents deleted with each row: should a delete fail, the
    rows stay and the next sweep tries again."""
    c, now = db.conn(), time.time()
    with c:
        for row in expired(c, now):
            docstore.delete_documents(row["id"])
            erase(c, row, now)


def purge_then_delete():
    """The rows erased in one short transaction, the documents deleted after it commits."""
    c, now = db.conn(), time.time()
    with c:
        rows = expired(c, now)
        for row in rows:
            erase(c, row, now)
    for row in rows:
        docstore.delete_documents(row["id"])


def sweep_loop():
    while True:
        time.sleep(EVERY)
        t0 = time.time()
        purge_expired() if config.planted("ats_retention") else purge_then_delete()
        config.record_span(t0, time.time())


def start():
    threading.Thread(target=sweep_loop, name="retention", daemon=True).start()
