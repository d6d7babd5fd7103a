"""docstore.py - the document store that keeps each application's documents (the CV and cover letter as
submitted); its API is faultsvc's dependency process here (DELETE answers in ~1 ms), started with the
worker and killed with it."""

import ctypes
import signal
import subprocess
import urllib.request

from . import config

_base = None


def start():
    global _base
    die_with_parent = lambda: ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # noqa: E731 (PR_SET_PDEATHSIG)
    proc = subprocess.Popen([config.DOCSTORE_CMD, "--role=dependency", "--addr=127.0.0.1:0",
                             "--duration=" + config.DURATION], stdout=subprocess.PIPE, preexec_fn=die_with_parent)
    _base = "http://" + proc.stdout.readline().decode().strip()


def delete_documents(app_id):
    """Deletes an application's documents; the store answers once they are gone."""
    with urllib.request.urlopen("%s/wait?ms=1&doc=application-%d" % (_base, app_id), timeout=10) as r:
        r.read()
