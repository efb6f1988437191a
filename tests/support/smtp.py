"""One SMTP inbox for every test and benchmark that sends mail: an aiosmtpd server on a free
port of 127.0.0.1, in this process, that keeps what it takes and misbehaves on request; and a
server that answers too slowly for any session's deadline."""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import os
import re
import signal
import socket
import threading
import time
from collections import Counter
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.run import free_port
from tests.support.serving import Background

# What the fault drivers put in alert titles, to follow each alert into the messages.
MARKER = re.compile(r"FAULT-\d+-\d+")


def raw(envelope: Envelope) -> bytes:
    """The message as it came over the wire."""
    content = envelope.original_content or envelope.content
    assert isinstance(content, bytes)
    return content


def b64(text: str) -> str:
    """``text`` in base64, as SMTP AUTH sends it."""
    return base64.b64encode(text.encode()).decode()


class Accounts:
    """An SMTP authenticator of one ``user`` with ``password``. A refusal quotes what was
    sent, as careless servers do, so that only newsmon can keep the password out of its
    error."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.logins: list[tuple[bytes, bool]] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        ok = data.login == self.user and data.password == self.password
        self.logins.append((data.login, ok))
        if ok:
            return AuthResult(success=True, auth_data=data)
        sent = data.password.decode()
        echo = f"535 5.7.8 {mechanism} {data.login.decode()}:{sent} ({b64(sent)}) rejected"
        return AuthResult(success=False, handled=False, message=echo)


class Inbox(Background):
    """An SMTP server (``with Inbox() as inbox``, then ``inbox.port``) that keeps every message
    it takes. It can refuse them with a 550, offer AUTH without TLS for ``accounts``, answer
    slowly (``delay``), or take a message and then kill its sender (``kill_pid``) or break the
    connection (``hang_up``) before the 250."""

    def __init__(self, accounts: Accounts | None = None) -> None:
        self.accounts = accounts
        self.port = free_port()
        self.envelopes: list[Envelope] = []
        self.refuse = False
        self.delay = 0.0
        self.kill_pid: int | None = None
        self.hang_up = False
        # The server answers in a thread of its own; tests read and set these meanwhile.
        self.lock = threading.Lock()
        auth = {} if accounts is None else {"authenticator": accounts, "auth_require_tls": False}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **auth)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse:
            return "550 5.7.1 digest refused by policy"
        with self.lock:
            self.envelopes.append(envelope)
            pid, self.kill_pid = self.kill_pid, None
        if pid is not None:
            os.kill(pid, signal.SIGKILL)  # taken, and the sender never hears the 250
        if self.hang_up:
            server.transport.close()  # taken, and the connection breaks before the 250
        if self.delay:
            time.sleep(self.delay)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        """Every message taken, parsed."""
        with self.lock:
            envelopes = list(self.envelopes)
        return [
            email.message_from_bytes(raw(e), policy=email.policy.default)  # type: ignore[misc]
            for e in envelopes
        ]

    @property
    def received(self) -> list[tuple[str, frozenset[str]]]:
        """Each message taken as its Message-ID and the alert markers in its plain text."""
        received = []
        for message in self.messages():
            body = message.get_body(("plain",))
            text = body.get_content() if body is not None else ""
            received.append((str(message["Message-ID"]), frozenset(MARKER.findall(text))))
        return received

    def deliveries(self) -> tuple[Counter[str], Counter[str]]:
        """How often each alert arrived, and in how many distinct messages (Message-IDs)."""
        received = self.received
        copies = Counter(t for _, tokens in received for t in tokens)
        messages = Counter(t for t, _ in {(t, mid) for mid, ts in received for t in ts})
        return copies, messages


# The replies each mode of SlowServer drips, by kind.
DRIPPED = {
    "every": frozenset({"greeting", "command", "after-data"}),
    "greeting": frozenset({"greeting"}),
    "after-data": frozenset({"after-data"}),
    "silent": frozenset(),
}


class SlowServer(Background):
    """An SMTP server on a free port of 127.0.0.1 that answers every command correctly but
    drips replies one byte every ``interval`` seconds: slower than any session should last,
    yet never so slow between two bytes that a per-read timeout fires. Which replies drip is
    ``mode``: ``every`` one; only the ``greeting``; only the 250 ``after-data`` (the message
    is in, the sender waits to hear so); or ``silent``: no greeting, never a word."""

    def __init__(self, interval: float = 2.0, mode: str = "every") -> None:
        assert mode in DRIPPED, mode
        self.interval = interval
        self.dripped = DRIPPED[mode]
        self.silent = mode == "silent"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.connections = 0
        # Set on stop, so that no session drips on into the next test.
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed: the test is over
                return
            self.connections += 1
            threading.Thread(target=self._session, args=(connection,), daemon=True).start()

    def _session(self, connection: socket.socket) -> None:
        with connection, contextlib.suppress(OSError), connection.makefile("rb") as lines:
            if not self.silent:
                self._reply(connection, "greeting", b"220 slow.example ESMTP\r\n")
            in_data = False
            for line in lines:
                if in_data:
                    if line == b".\r\n":
                        in_data = False
                        self._reply(connection, "after-data", b"250 OK\r\n")
                    continue
                command = line[:4].upper()
                if command == b"DATA":
                    in_data = True
                    self._reply(connection, "command", b"354 go ahead\r\n")
                elif command == b"QUIT":
                    self._reply(connection, "command", b"221 bye\r\n")
                    return
                else:
                    self._reply(connection, "command", b"250 OK\r\n")

    def _reply(self, connection: socket.socket, kind: str, reply: bytes) -> None:
        if kind not in self.dripped:
            connection.sendall(reply)
            return
        for byte in reply:
            connection.sendall(bytes([byte]))
            if self.stopped.wait(self.interval):
                return
