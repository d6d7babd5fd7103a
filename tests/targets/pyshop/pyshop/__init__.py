"""pyshop - loadctl's Python demo target: a Flask shop (and one Django endpoint) with planted faults,
profiled per request by loadctl_agent. See ../README.md."""
