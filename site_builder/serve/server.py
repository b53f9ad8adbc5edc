"""`site-builder serve`: the preview's builds (preview.py) behind its one WSGI application
(app.py), run by the standard library's wsgiref server with a thread per connection.

The server never forks: builds run in the preview's builder thread, and the build's worker
pool starts its processes through a fork server, which is safe in a threaded process.
"""
from __future__ import annotations

import argparse
import ipaddress
import signal
import socket
import socketserver
import sys
import threading
import webbrowser
from pathlib import Path
from typing import Callable
from urllib.parse import quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .app import SEARCH_PATH, HostCheck, PreviewApp
from .preview import DEBOUNCE, Preview


class _Handler(WSGIRequestHandler):
    # A connection that sends nothing for this long is closed (browsers open spare ones).
    timeout = 30

    def get_environ(self):
        environ = super().get_environ()
        environ["REQUEST_URI"] = self.path  # the target as sent: PATH_INFO is percent-decoded
        return environ

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # one line per request would drown the build's messages


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # Connections arriving while the accept loop waits for the GIL queue here; the default
    # of 5 drops them, and a dropped connection is retried only after a second or more.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int]):
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self):
        # As WSGIServer's, without the reverse DNS lookup of the address (slow where DNS is).
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]
        self.setup_environ()

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the browser went away (a closed tab, a reload) or sent nothing
        super().handle_error(request, client_address)


class PreviewServer:
    """Build, then serve and rebuild on change: ``with PreviewServer(...) as server: server.url``."""

    def __init__(self, content_dir: Path, output_dir: Path, config_path: Path | None = None, *,
                 strict: bool = False, keep_going: bool = False, allow_shrink: bool = False,
                 host: str = "127.0.0.1", port: int = 8000, debounce: float = DEBOUNCE,
                 log: Callable[[str], None] | None = None):
        self.preview = Preview(content_dir, output_dir, config_path, strict=strict, keep_going=keep_going,
                               allow_shrink=allow_shrink, debounce=debounce, log=log)
        self.host, self.port = host, port
        self.httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The address bound (port 0 asks for any free port)."""
        return self.httpd.server_address[:2] if self.httpd else (self.host, self.port)

    def url_of(self, path: str) -> str:
        host, port = self.address
        shown = f"[{host}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}{quote(path, safe='/')}"

    @property
    def url(self) -> str:
        """The site's address (with its base path)."""
        return self.url_of(self.preview.state.root)

    def start(self) -> None:
        """Bind (so that a port in use fails before the build), build once, then serve."""
        self.httpd = _Server((self.host, self.port))
        self.httpd.set_app(PreviewApp(self.preview, hosts=HostCheck.bound(self.host, self.httpd.server_address)))
        self.preview.start()
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="preview-http", daemon=True)
        self._thread.start()

    def stop(self, wait: bool = True) -> None:
        self.preview.stop(wait)  # also ends the event streams, so their threads end
        if self.httpd is not None:
            if self._thread is not None and self._thread.is_alive():
                self.httpd.shutdown()
            self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "PreviewServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_serve(args: argparse.Namespace) -> int:
    """Build, serve and rebuild on change until Ctrl-C; returns the exit status."""
    server = PreviewServer(args.content, args.output, args.config, strict=args.strict,
                           keep_going=args.keep_going, allow_shrink=args.allow_shrink,
                           host=args.host, port=args.port)
    if not is_loopback(args.host):
        _say(f"警告：正在监听 {args.host}，能访问本机 {args.port} 端口的任何人都能读取预览（包括未发布的报告）；"
             f"除非确有需要，请使用默认的 --host 127.0.0.1（warning: listening on {args.host}: anyone who can "
             f"reach this machine on port {args.port} can read the preview, unpublished reports included）")
    _say(f"正在构建 {server.preview.content_dir} …（building）")
    try:
        server.start()
    except OSError as exc:
        _say(f"错误：无法监听 {args.host}:{args.port}：{exc.strerror or exc}"
             f"（error: cannot listen on {args.host}:{args.port}）")
        server.stop()
        return 2
    except KeyboardInterrupt:  # Ctrl-C during the first build
        server.stop(wait=False)
        return 130
    print(f"预览 Serving {server.url}（监视内容文件夹，按 Ctrl-C 停止 · watching the content, Ctrl-C to stop）\n"
          f"服务器检索 Server search {server.url_of(SEARCH_PATH)}", flush=True)
    if args.open:
        threading.Thread(target=webbrowser.open, args=(server.url,), daemon=True).start()
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        _say("\n正在停止…（stopping）")
        server.stop(wait=False)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0
