"""Sending a rendered digest: SMTP (STARTTLS, SSL or plain) or a file. Nothing here reads
alerts; a failure is a DeliveryRefused or a DeliveryUncertain whose first line says what
refused and why."""

from __future__ import annotations

import base64
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path

from crawler.config import SmtpSettings
from crawler.errors import DeliveryFailed, DeliveryRefused, DeliveryUncertain


def send_smtp(message: EmailMessage, smtp: SmtpSettings) -> dict[str, tuple[int, bytes]]:
    """Hand the message to the SMTP server; returns the recipients it refused (the rest took it).

    Raises DeliveryRefused when the server certainly took nothing (it refused the connection
    or said no), DeliveryUncertain when the connection failed and it may have. Logs in
    only when a user is configured; the password comes from the environment and is never
    part of an error message.
    """
    where = f"SMTP {smtp.host}:{smtp.port}"
    password = smtp.password() if smtp.user else ""
    failure: type[DeliveryFailed] = DeliveryRefused
    try:
        client: smtplib.SMTP
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, password)
            return client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        refused = "; ".join(f"{a} {_reply(c, m)}" for a, (c, m) in exc.recipients.items())
        error = f"{where} refused every recipient: {refused}"
    except smtplib.SMTPResponseException as exc:
        error = f"{where} refused the digest: {_reply(exc.smtp_code, exc.smtp_error)}"
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{where} unreachable: {exc or type(exc).__name__}"
        # A timeout or a dropped connection may come after the server took the message.
        if not isinstance(exc, ConnectionRefusedError):
            failure = DeliveryUncertain
    # The error is printed and stored in the digests table: a server that echoes what it
    # was sent (the AUTH line, or the password itself) must not put the password there.
    raise failure(_redact(error, smtp.user, password))


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
