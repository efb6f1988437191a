"""Reporters (urlwatch style): ``render`` makes the digest, ``send`` delivers it, and
``run_digest`` ties them to the alerts table so that each alert reaches the server once, as
nearly as SMTP allows (see ``run_digest``)."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import cast
from urllib.parse import quote

from crawler.clock import now
from crawler.config import Config, Recipient, check_address, load_config
from crawler.db import Store, open_db
from crawler.errors import DeliveryFailed, DeliveryRefused
from crawler.locks import holder, lock_path, try_lock
from crawler.reporters.render import (
    Digest,
    build_message,
    collect,
    render_digest,
    since_moment,
)
from crawler.reporters.send import send_smtp, write_file

__all__ = ["Digest", "build_message", "collect", "render_digest", "run_digest"]

NO_RECIPIENTS = "no one yet (no --to, [smtp] to or [[digest.recipient]])"


@dataclass(frozen=True)
class Delivery:
    """One message: who gets it and what is in it."""

    recipients: tuple[str, ...]
    digest: Digest


def deliveries(digest: Digest, recipients: tuple[Recipient, ...]) -> list[Delivery]:
    """One message for everyone without filters, one per distinct filter; empty ones dropped."""
    everything = tuple(r.address for r in recipients if not r.filtered)
    out = [Delivery(everything, digest)] if everything else []
    by_filter: dict[tuple[tuple[str, ...], tuple[str, ...]], list[Recipient]] = {}
    for r in recipients:
        if r.filtered:
            by_filter.setdefault((r.regions, r.topics), []).append(r)
    for group in by_filter.values():
        part = digest.for_recipient(group[0])
        if part:
            out.append(Delivery(tuple(r.address for r in group), part))
    return out


def run_digest(
    db_path: Path,
    since: str | None,
    recipients: tuple[str, ...],
    out: Path | None,
    dry_run: bool,
    config_path: Path | None,
) -> str:
    """Send every alert not yet sent, however old (or write them to ``out``).

    Nothing owed is dropped: after a day of SMTP or cron being down, the next digest holds
    that day too. ``since`` (else ``[digest] since``) only narrows a ``dry_run``, which
    shows the unsent alerts of that window (the text part each recipient would get) and
    marks nothing; a bad value is an error either way.

    Each alert reaches the SMTP server once, as nearly as SMTP allows. One run at a time
    (a lock beside the database; a second run is skipped). Before a message goes out it is
    stored with its Message-ID and its alerts ('sending'); its alerts are marked sent once the
    server accepted it. A refused message or an unreachable server marks nothing: the error
    goes into ``digests`` and the alerts into the next digest. A run killed before it heard
    the server's answer leaves the message 'sending', and the next run sends that same message
    again first: if the server had taken it, the copy has the same Message-ID, by which mail
    stores and clients drop duplicates. Returns the one line to print.
    """
    config = load_config(config_path)
    window = since or config.digest.since
    moment = since_moment(window) if window else None
    # The database is opened (and refused: missing, damaged, read-only) before the lock
    # file is made beside it, so a refused run leaves nothing behind.
    store = Store(open_db(db_path, create=False, write=not dry_run))
    try:
        path = lock_path(db_path, "digest")
        lock = None if dry_run else try_lock(path)
        if not dry_run and lock is None:
            return f"digest: already being sent by {holder(path)}; skipped"
        try:
            return _run(
                store, config, moment if dry_run else None, recipients, out, dry_run, db_path
            )
        finally:
            if lock is not None:
                lock.release()
    finally:
        store.db.close()


def _run(
    store: Store,
    config: Config,
    moment: str | None,
    addresses: tuple[str, ...],
    out: Path | None,
    dry_run: bool,
    db_path: Path,
) -> str:
    pending = store.pending_digests() if out is None else []
    # Datasette names a database after its file: news.db is /news.
    browse = config.serve_base_url and f"{config.serve_base_url}/{quote(db_path.stem)}"
    found = collect(store.db, moment, config.digest.timezone, browse or None)
    digest = _unclaimed(found, store.claimed_alerts())
    prefix = config.digest.subject_prefix
    nothing = f"nothing new since {moment or 'the last digest'}"
    if out is not None:
        if not digest:
            return nothing
        subject = digest.subject(prefix)
        write_file(render_digest(digest, "html", subject), out)
        if dry_run:
            return f"wrote {out} ({subject}); dry run, nothing marked sent"
        store.record_digest([], subject, digest.alert_ids, now(), out_path=str(out))
        store.mark_alerts_sent(digest.alert_ids)
        return f"wrote {out} ({subject})"
    if not digest and not pending:
        return nothing
    plan: list[Delivery] = []
    if digest:
        recipients = (
            tuple(Recipient(check_address(a, "--to")) for a in addresses)
            if addresses
            else tuple(Recipient(a) for a in config.smtp.to) + config.digest.recipients
        )
        if not recipients and not dry_run:
            raise ValueError(
                "no recipients: give --to ADDR, or set [smtp] to / [[digest.recipient]]"
            )
        # A preview before any recipient is set up shows the whole digest.
        plan = deliveries(digest, recipients) if recipients else [Delivery((), digest)]
    if dry_run:
        names = [", ".join(d.recipients) or NO_RECIPIENTS for d in plan]
        summary = "dry run, nothing sent: " + "; ".join(
            [f"{d.digest.subject(prefix)} to {n}" for d, n in zip(plan, names, strict=True)]
            + [f"{p['subject']} again (a run was cut off sending it)" for p in pending]
        )
        # Then the text part each message would carry, as its recipients would read it.
        texts = [
            f"--- to {n} ---\n"
            + render_digest(d.digest, "text", d.digest.subject(prefix)).rstrip()
            for d, n in zip(plan, names, strict=True)
        ]
        return "\n\n".join([summary, *texts])
    claimed = _claim(store, config, digest, plan) if digest else []
    # The messages a cut-off run left first, then this run's: all are stored the same way.
    again = {p["id"] for p in pending}
    rows = pending + [p for p in store.pending_digests() if p["id"] in claimed]
    lines: list[str] = []
    errors: list[str] = []
    unsent: set[int] = set()
    for row in rows:
        message = email.message_from_bytes(row["message"], policy=email.policy.SMTP)
        to = ", ".join(json.loads(row["recipients"]))
        try:
            refused = send_smtp(cast(EmailMessage, message), config.smtp)
        except DeliveryFailed as exc:
            error = str(exc).splitlines()[0]
            store.digest_failed(row["id"], error, refused=isinstance(exc, DeliveryRefused))
            errors.append(error)
            unsent.update(store.digest_alert_ids(row["id"]))
            continue
        note = "; ".join(f"{a} refused {c}" for a, (c, _m) in refused.items()) or None
        store.digest_sent(row["id"], note)
        sent = "sent again" if row["id"] in again else "sent"
        lines.append(f"{sent} {row['subject']} to {to}")
    if errors:
        raise OSError(
            f"{errors[0]} ({len(unsent)} alerts left unsent for the next run)"
            + ("; " + "; ".join(lines) if lines else "")
        )
    return "; ".join(lines) or "nothing for these recipients' filters since the last digest"


def _claim(store: Store, config: Config, digest: Digest, plan: list[Delivery]) -> list[int]:
    """Build each delivery's message and store it, with its alerts, as about to be sent; the
    stored messages' ids. Alerts no delivery holds (no filter wanted them) are done."""
    prefix = config.digest.subject_prefix
    messages = []
    for delivery in plan:
        message = build_message(delivery.digest, config.smtp.sender, delivery.recipients, prefix)
        messages.append(
            {
                "recipients": list(delivery.recipients),
                "subject": delivery.digest.subject(prefix),
                "message_id": message["Message-ID"],
                "message": message.as_bytes(),
                "alert_ids": delivery.digest.alert_ids,
            }
        )
    claimed = store.claim_digest(digest.alert_ids, messages)
    if messages and not claimed:
        raise OSError("another digest run took these alerts meanwhile; nothing sent")
    return claimed


def _unclaimed(digest: Digest, claimed: set[int]) -> Digest:
    """The digest without the alerts a message still on its way holds."""
    return digest.only(lambda item: item.alert_id not in claimed) if claimed else digest
