"""weather - a small forecast API written as a plain ASGI app (tests/targets/faults/asgi/run)."""
