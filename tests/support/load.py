"""The load generator and the kill -9 attribution of `make soak`: bench/load.py's, so
tests/test_load_faults.py and the long run drive the same code."""
from bench.load import (MIX, attribute, drive, established, exchange, http_request,  # noqa: F401
                        kill_worker, mixed_requests, summarize, worker_connections)
