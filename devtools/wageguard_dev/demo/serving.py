"""Running a standard-library HTTP server on a background thread, and the request
handler habits every demo server shares."""

from __future__ import annotations

import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

log = logging.getLogger(__name__)


class QuietHandler(BaseHTTPRequestHandler):
    """Keep-alive (clients page through thousands of requests on one connection), and
    request lines to the debug log rather than stderr: at a thousand pages a second,
    printing them would be the bottleneck."""

    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection gives its thread back
    # Headers and body leave in two writes; with Nagle's algorithm on, the client's
    # delayed ACK would hold every response back some 40 ms.
    disable_nagle_algorithm = True

    def send(self, status: int, body: bytes, content_type: str, headers: dict | None = None,
             *, head_only: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # many clients connecting at once is the load being tested

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            # A client hanging up on an idle keep-alive connection is routine.
            log.debug("%s disconnected", client_address)
            return
        log.exception("error serving %s", client_address)


class BackgroundServer:
    """A server bound on creation (so an ephemeral port is known at once), serving on a
    daemon thread between `start` and `stop`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str, port: int):
        self._httpd = _Server((host, port), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long `stop` waits for the loop to notice
            name=f"{handler.__name__}:{self.port}",
            daemon=True,
        )

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        # server_bind keeps getsockname()'s address, whose AF_INET host is text; only
        # an address given to bind may spell it in bytes.
        host = cast(str, self._httpd.server_address[0])
        return f"http://{host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
