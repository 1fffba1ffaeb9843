"""One requests session policy for every HTTP source: bounded retries with
back-off on transient answers, honouring Retry-After up to a cap (urllib3 does
the work), and redirects followed only within the origin they start from."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from wageguard.sources.config import PullLimits, SourceConfig

TRANSIENT = (429, 502, 503, 504)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class RedirectRefusedError(RuntimeError):
    pass


class CredentialsRefusedError(RuntimeError):
    """A source answered 401 or 403: the same credentials will be refused
    again until someone fixes the connection."""


CREDENTIALS_REFUSED = (401, 403)


class SourceSession(requests.Session):
    """A session that carries its source's pull limits, and that refuses a
    redirect to another origin before anything is sent there.

    requests itself strips only Authorization on a redirect to another host: an
    X-Api-Key would follow the redirect, and a Basic or bearer credential would
    still reach another port of the same host or leave https for http."""

    def __init__(self, limits: PullLimits):
        super().__init__()
        self.limits = limits

    def rebuild_auth(self, prepared_request, response) -> None:
        # Called on every hop, with the next URL resolved, before it is requested.
        check_redirect(response.url, prepared_request.url)
        super().rebuild_auth(prepared_request, response)


def check_redirect(source: str, target: str) -> None:
    """Credentials are configured for one origin (scheme, host and port); a
    redirect may move within it, never out of it."""
    here, there = urlsplit(source), urlsplit(target)
    if _same_origin(here, there):
        return
    if here.scheme == "https" and there.scheme != "https":
        why = ("it leaves https for plain http, which would expose the credentials and the "
               "data; ask the source's operators to keep it on https")
    else:
        why = (f"the connection trusts {_origin_text(here)} alone and sends its credentials "
               f"nowhere else; if the source has moved, point the connection at "
               f"{_origin_text(there)}")
    raise RedirectRefusedError(
        f"refused the redirect from {_without_query(here)} to {_without_query(there)}: {why}"
    )


def _same_origin(here, there) -> bool:
    try:
        return _origin(here) == _origin(there)
    except ValueError:  # a port that is no number: nowhere to follow
        return False


def _origin(url) -> tuple[str, str, int | None]:
    return url.scheme, url.hostname or "", url.port or _DEFAULT_PORTS.get(url.scheme)


def _origin_text(url) -> str:
    return f"{url.scheme}://{url.netloc.rpartition('@')[2]}"


def _without_query(url) -> str:
    return f"{_origin_text(url)}{url.path}"


def retrying_session(config: SourceConfig) -> SourceSession:
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
        retry_after_max=config.limits.retry_after_s,
        raise_on_status=False,
    )
    session = SourceSession(config.limits)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
