"""Sending a rendered digest: SMTP (STARTTLS, SSL or plain) or a file. Nothing here reads
alerts; a failure is a DeliveryRefused or a DeliveryUncertain whose first line says what
refused and why."""

from __future__ import annotations

import base64
import contextlib
import smtplib
import socket
import ssl
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from crawler.config import SmtpSettings
from crawler.errors import DeliveryFailed, DeliveryRefused, DeliveryUncertain


class _Session:
    """One SMTP session under a deadline for the whole of it: smtplib's timeout bounds each
    read and write, so a server that drips its replies a byte at a time would hold it for
    ever. When the deadline passes the connection is shut, and the read or write waiting on
    it ends at once."""

    def __init__(self, seconds: float):
        self.client: smtplib.SMTP | None = None
        self.data_sent = False  # from here on the server may have taken the message
        self.passed = threading.Event()
        self.timer = threading.Timer(seconds, self._hang_up)
        self.timer.daemon = True

    def _hang_up(self) -> None:
        self.passed.set()
        sock = self.client.sock if self.client is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):  # closed meanwhile
                sock.shutdown(socket.SHUT_RDWR)


class _Client(smtplib.SMTP):
    """smtplib's client, plain or over SSL, that tells its session whether the DATA went out.
    Known to the session before it connects, so the deadline covers the greeting too."""

    def __init__(
        self, session: _Session, smtp: SmtpSettings, context: ssl.SSLContext | None
    ) -> None:
        self.session = session
        self.tls = context
        session.client = self
        super().__init__(smtp.host, smtp.port, timeout=smtp.timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        return self.tls.wrap_socket(sock, server_hostname=host) if self.tls else sock

    def data(self, msg: Any) -> tuple[int, bytes]:
        self.session.data_sent = True
        return super().data(msg)


def send_smtp(message: EmailMessage, smtp: SmtpSettings) -> dict[str, tuple[int, bytes]]:
    """Hand the message to the SMTP server; returns the recipients it refused (the rest took it).

    The whole session, from connecting to the server's answer to the message, ends within
    ``smtp.timeout``. Raises DeliveryRefused when the server certainly took nothing (it
    refused, or the session ended before the DATA went out), DeliveryUncertain when it
    ended later and the server may have. Logs in only when a user is configured; the
    password comes from the environment and is never part of an error message.
    """
    where = f"SMTP {smtp.host}:{smtp.port}"
    password = smtp.password() if smtp.user else ""
    session = _Session(smtp.timeout)
    session.timer.start()
    try:
        client = _Client(
            session, smtp, ssl.create_default_context() if smtp.security == "ssl" else None
        )
        if smtp.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, password)
        refused = client.send_message(message)
        # The message is taken: how the goodbye goes changes nothing.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            client.quit()
        return refused
    except (smtplib.SMTPException, OSError) as exc:
        error, failure = _failure(exc, where, session, smtp.timeout)
    finally:
        session.timer.cancel()
        if session.client is not None:
            session.client.close()
    # The error is printed and stored in the digests table: a server that echoes what it
    # was sent (the AUTH line, or the password itself) must not put the password there.
    raise failure(_redact(error, smtp.user, password))


def _failure(
    exc: smtplib.SMTPException | OSError, where: str, session: _Session, timeout: float
) -> tuple[str, type[DeliveryFailed]]:
    """What ended a session, and whether the server may have taken the message."""
    # Cut short, a session may end in any error, a half-read reply too: the deadline is why.
    if session.passed.is_set():
        error = f"{where} did not finish within the [smtp] timeout of {timeout:g} s"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        listed = "; ".join(f"{a} {_reply(c, m)}" for a, (c, m) in exc.recipients.items())
        return f"{where} refused every recipient: {listed}", DeliveryRefused
    elif isinstance(exc, smtplib.SMTPResponseException):
        return (
            f"{where} refused the digest: {_reply(exc.smtp_code, exc.smtp_error)}",
            DeliveryRefused,
        )
    else:
        error = f"{where} unreachable: {exc or type(exc).__name__}"
    # Broken off after the DATA went out, it may have ended after the server took the message.
    return error, DeliveryUncertain if session.data_sent else DeliveryRefused


def write_file(html: str, out: Path) -> None:
    """Write the HTML digest to ``out`` (whole or not at all: a temporary file, renamed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(out)


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _redact(text: str, user: str, password: str) -> str:
    """``text`` without the password: as typed, with its spaces collapsed as in a server's
    reply, and in base64 as AUTH LOGIN and AUTH PLAIN send it."""
    if not password:
        return text
    forms = {password, " ".join(password.split()), _b64(password), _b64(f"\0{user}\0{password}")}
    forms.discard("")
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, "***")
    return text


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
