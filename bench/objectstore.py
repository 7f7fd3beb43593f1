"""An S3 API server for the tests and bench/store.py: moto's server mode (ThreadedMotoServer, what s3fs and
pyiceberg test against) on a free loopback port, reached through the standard AWS variables,
as a real store would be (AWS_ENDPOINT_URL and a key pair)."""
from __future__ import annotations

import contextlib
import itertools
import logging
from dataclasses import dataclass

from bench.server import free_port

_buckets = itertools.count()


@dataclass
class Store:
    server: object  # moto.server.ThreadedMotoServer
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What a client of this store needs, in the standard AWS variables."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def bucket(self, prefix: str = "catalog") -> str:
        """A fresh bucket; its catalog's s3:// location (under `prefix`)."""
        name = f"wordspace-{next(_buckets)}"
        self.client().create_bucket(Bucket=name)
        return f"s3://{name}/{prefix}" if prefix else f"s3://{name}"

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        """(Again, after stop: moto keeps its objects in this process's memory.)"""
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # else a line per request
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()


@contextlib.contextmanager
def running():
    """A started store; stopped at the end."""
    store = Store(None, free_port())
    store.start()
    try:
        yield store
    finally:
        with contextlib.suppress(Exception):
            store.stop()
