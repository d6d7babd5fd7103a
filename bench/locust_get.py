"""locust_get.py - bench/run's locust peer: FastHttpUser sending the same GET with a header as
bench/get.lua and wrk's Lua script, no think time."""
from locust import FastHttpUser, constant, task


class Get(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/", headers={"X-Bench": "1"}, name="GET /")
