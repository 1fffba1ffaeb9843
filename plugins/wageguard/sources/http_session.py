"""One requests session policy for every HTTP source: bounded retries with
back-off on transient answers, honouring Retry-After (urllib3 does the work)."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from wageguard.sources.config import SourceConfig

TRANSIENT = (429, 502, 503, 504)


def retrying_session(config: SourceConfig) -> requests.Session:
    config.check_transport()
    retry = Retry(
        total=12,
        connect=5,
        read=5,
        status=10,
        backoff_factor=0.5,
        backoff_max=30,
        status_forcelist=TRANSIENT,
        allowed_methods=frozenset({"GET"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
