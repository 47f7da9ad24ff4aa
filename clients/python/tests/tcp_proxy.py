"""A TCP proxy between a client and the test broker that a test can hold
and cut, to break a publisher's stream at a chosen moment."""

from __future__ import annotations

import socket
import threading


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Link:
    """One proxied connection. While held, the broker's bytes are kept back
    (in order) instead of passed on; the client's still go through."""

    def __init__(self, client: socket.socket, upstream: socket.socket, holding: bool) -> None:
        self.client = client
        self.upstream = upstream
        self._lock = threading.Lock()
        self._held: list[bytes] | None = [] if holding else None

    def pump(self, source: socket.socket, sink: socket.socket, holdable: bool) -> None:
        try:
            while data := source.recv(65536):
                with self._lock:
                    if holdable and self._held is not None:
                        self._held.append(data)
                    else:
                        sink.sendall(data)
        except OSError:
            pass
        finally:
            self.close()

    def hold(self) -> None:
        with self._lock:
            if self._held is None:
                self._held = []

    def release(self) -> None:
        with self._lock:
            held, self._held = self._held or [], None
            try:
                self.client.sendall(b"".join(held))
            except OSError:
                pass

    def close(self) -> None:
        _close(self.client)
        _close(self.upstream)


class TcpProxy:
    """Listens on 127.0.0.1 (``address``) and forwards each connection to
    ``target`` (host:port). ``hold_responses()`` keeps the broker's answers
    from reaching the client (its requests still reach the broker);
    ``release_responses()`` lets them through; ``cut()`` closes every
    connection, held bytes lost, and lets later connections through."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._links: list[_Link] = []
        self._holding = False
        self._threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name="test-proxy", daemon=True)  # type: ignore[arg-type]
        self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target)
            except OSError:
                _close(client)
                continue
            with self._lock:
                link = _Link(client, upstream, self._holding)
                self._links.append(link)
                self._start(link.pump, client, upstream, False)
                self._start(link.pump, upstream, client, True)

    def hold_responses(self) -> None:
        with self._lock:
            self._holding = True
            for link in self._links:
                link.hold()

    def release_responses(self) -> None:
        with self._lock:
            self._holding = False
            for link in self._links:
                link.release()

    def cut(self) -> None:
        with self._lock:
            links, self._links, self._holding = self._links, [], False
        for link in links:
            link.close()

    def close(self) -> None:
        _close(self._listener)
        self.cut()
        for thread in self._threads:
            thread.join(10)


def unused_address() -> str:
    """An address on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"
