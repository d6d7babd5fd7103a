"""wsgi.py - what gunicorn serves (`pyshop.wsgi:app`): /dj/... goes to Django, the rest to Flask; starts the
planted background job, the carrier service and (unless PYSHOP_AGENT=0) loadctl_agent in the worker."""

import logging
import os

import loadctl_agent

from . import app as flask_module, config, faults, store

logging.basicConfig(level=logging.INFO)
store.init()
flask_module.CARRIER = faults.start_carrier()
if "reindex" in config.FAULTS:
    faults.start_reindexer()
if config.AGENT:
    if config.AGENT_TICK == "none":  # an in-process thread that wakes and reads nothing (the external sampler
        os.environ["LOADCTL_AGENT_SAMPLER"] = "inprocess"  # has no thread in here to measure)
    agent = loadctl_agent.start(listen=config.PPROF_ADDR, hz=config.AGENT_HZ)
    if config.AGENT_TICK == "none":  # the sampler thread wakes at hz and takes the GIL, but reads no stack
        agent.sampler.tick = lambda collectors, wall_ns: None
    loadctl_agent.flask(flask_module.app)

from . import djshop  # noqa: E402 - after the agent (its middleware imports loadctl_agent)

FLASK = flask_module.app  # its wsgi_app is wrapped by loadctl_agent.flask when the agent runs


def app(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/dj/"):
        return djshop.application(environ, start_response)
    return FLASK(environ, start_response)
