"""db.py - the sqlite database: one connection per thread (sqlite3 objects stay in their thread), WAL, a
busy timeout so that a writer waits for another's transaction instead of failing, and the seed data."""

import random
import sqlite3
import threading
import time

from . import config, scoring

SCHEMA = """
CREATE TABLE jobs (id INTEGER PRIMARY KEY, title TEXT, team TEXT, required TEXT, nice TEXT, seniority INTEGER);
CREATE TABLE candidates (id INTEGER PRIMARY KEY, name TEXT, email TEXT, country TEXT, skills TEXT,
                         years INTEGER, headline TEXT);
CREATE TABLE applications (id INTEGER PRIMARY KEY, job_id INTEGER, candidate_id INTEGER, stage TEXT,
                           created REAL, score REAL);
CREATE TABLE notes (id INTEGER PRIMARY KEY, application_id INTEGER, author TEXT, body TEXT, created REAL);
CREATE TABLE resumes (candidate_id INTEGER PRIMARY KEY, filename TEXT, sealed INTEGER, data BLOB);
CREATE TABLE erasures (id INTEGER PRIMARY KEY, application_id INTEGER, email_hash TEXT, erased REAL);
"""
INDEXES = """
CREATE INDEX applications_job ON applications (job_id, created);
CREATE INDEX applications_job_score ON applications (job_id, score);
CREATE INDEX applications_stage ON applications (stage, created);
CREATE INDEX applications_candidate ON applications (candidate_id);
CREATE INDEX notes_application ON notes (application_id);
"""
SKILLS = ("python", "go", "java", "kotlin", "sql", "postgres", "react", "typescript", "aws", "gcp", "docker",
          "kubernetes", "terraform", "spark", "airflow", "ml", "pytorch", "figma", "excel", "sales", "seo",
          "accounting", "rust", "c++", "linux", "networking", "security", "android", "ios", "graphql")
TITLES = ("Backend Engineer", "Data Engineer", "Product Designer", "Account Executive", "SRE",
          "Mobile Engineer", "Financial Analyst", "Security Engineer", "Frontend Engineer", "ML Engineer")
COUNTRIES = ("US",) * 20 + ("GB", "GB", "GB", "CA", "CA", "IN", "IN", "IN", "BR", "AU") + config.EU
RETENTION = 180 * 86400   # rejected candidates' applications are erased after six months
CANDIDATES = 12000

_local = threading.local()
_path = None


def conn():
    """This thread's connection, opened on first use."""
    c = getattr(_local, "conn", None)
    if c is None:
        c = sqlite3.connect(_path, timeout=10.0)
        c.row_factory = sqlite3.Row
        c.execute("PRAGMA synchronous=NORMAL")
        _local.conn = c
    return c


def skills_of(rng, n):
    return ",".join(rng.sample(SKILLS, n))


def open_db(path):
    """Creates and seeds the database; every worker thread then opens its own connection on it."""
    global _path
    _path = path
    c = sqlite3.connect(path)
    c.row_factory = sqlite3.Row
    c.execute("PRAGMA journal_mode=WAL")
    c.executescript(SCHEMA)
    rng = random.Random(7)
    c.executemany("INSERT INTO jobs VALUES (?,?,?,?,?,?)",
                  [(j, TITLES[j % len(TITLES)], "team%d" % (j % 17), skills_of(rng, 5), skills_of(rng, 6),
                    rng.randint(0, 10)) for j in range(config.JOBS)])
    c.executemany("INSERT INTO candidates VALUES (?,?,?,?,?,?,?)",
                  [(i, "Candidate %d" % i, "c%d@example.org" % i, rng.choice(COUNTRIES),
                    skills_of(rng, rng.randint(3, 12)), rng.randint(0, 25),
                    "%s with %d years" % (rng.choice(TITLES), rng.randint(1, 20))) for i in range(CANDIDATES)])
    c.executemany("INSERT INTO applications (job_id, candidate_id, stage, created, score) VALUES (?,?,?,?,?)",
                  list(seed_applications(rng, time.time(), *profiles(c))))
    c.executescript(INDEXES)
    c.commit()
    c.close()


def profiles(c):
    """The jobs' and candidates' parsed profiles, for the scores the fixed pipeline stores (none when the
    pipeline scores at request time)."""
    if config.planted("ats_pipeline"):
        return None, None
    return ([scoring.job_profile(r) for r in c.execute("SELECT * FROM jobs ORDER BY id")],
            [scoring.candidate_profile(r) for r in c.execute("SELECT * FROM candidates ORDER BY id")])


def seed_applications(rng, now, jobs, cands):
    """Open applications for every job (hundreds or thousands for the graduate programmes), scored as the
    fixed pipeline stores them, and the rejected ones of past hiring rounds, which reach the retention
    limit one after another during the run."""
    for job in range(config.JOBS):
        n = 3000 if job % config.BIG_JOB == 3 else rng.randint(20, 60)
        for _ in range(n):
            cand = rng.randrange(CANDIDATES)
            yield (job, cand, rng.choice(("new", "screen", "interview")), now - rng.uniform(0, 9e6),
                   scoring.profile_score(jobs[job], cands[cand]) if jobs else None)
    for _ in range(6000):
        yield rng.randrange(config.JOBS), rng.randrange(CANDIDATES), "rejected", now - RETENTION + rng.uniform(-5, 300), None
