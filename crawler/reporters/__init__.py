"""Reporters (urlwatch style): ``render`` makes the digest, ``send`` delivers it, and
``run_digest`` ties them to the alerts table so that each alert is delivered exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from crawler.config import Config, Recipient, check_address, load_config
from crawler.db import Store, now, open_db
from crawler.reporters.render import Digest, build_message, collect, render_digest, since_moment
from crawler.reporters.send import send_smtp, write_file

__all__ = ["Digest", "build_message", "collect", "render_digest", "run_digest"]


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
    since: str,
    recipients: tuple[str, ...],
    out: Path | None,
    dry_run: bool,
    config_path: Path | None,
) -> str:
    """Render the unsent alerts of the last ``since`` and send them (or write ``out``).

    Alerts are marked sent only once the SMTP server accepted a message holding them (or the
    file was written); a failure marks nothing, records the error in ``digests``, and the next
    run tries again. Returns the one line to print.
    """
    config = load_config(config_path)
    store = Store(open_db(db_path))
    try:
        return _run(store, config, since, recipients, out, dry_run)
    finally:
        store.db.close()


def _run(
    store: Store,
    config: Config,
    since: str,
    addresses: tuple[str, ...],
    out: Path | None,
    dry_run: bool,
) -> str:
    moment = since_moment(since or config.digest.since)
    digest = collect(store.db, moment)
    if not digest:
        return f"nothing new since {moment}"
    prefix = config.digest.subject_prefix
    subject = digest.subject(prefix)
    if out is not None:
        write_file(render_digest(digest, "html", subject), out)
        if dry_run:
            return f"wrote {out} ({subject}); dry run, nothing marked sent"
        store.record_digest([], subject, digest.alert_ids, now(), out_path=str(out))
        store.mark_alerts_sent(digest.alert_ids)
        return f"wrote {out} ({subject})"
    recipients = (
        tuple(Recipient(check_address(a, "--to")) for a in addresses)
        if addresses
        else tuple(Recipient(a) for a in config.smtp.to) + config.digest.recipients
    )
    if not recipients:
        raise ValueError("no recipients: give --to ADDR, or set [smtp] to / [[digest.recipient]]")
    plan = deliveries(digest, recipients)
    if dry_run:
        return "dry run, nothing sent: " + "; ".join(
            f"{d.digest.subject(prefix)} to {', '.join(d.recipients)}" for d in plan
        )
    failed: set[int] = set()
    sent: set[int] = set()
    lines, errors = [], []
    for delivery in plan:
        part_subject = delivery.digest.subject(prefix)
        to = ", ".join(delivery.recipients)
        message = build_message(delivery.digest, config.smtp.sender, delivery.recipients, prefix)
        try:
            refused = send_smtp(message, config.smtp)
        except OSError as exc:
            error = str(exc).splitlines()[0]
            store.record_digest(
                list(delivery.recipients),
                part_subject,
                delivery.digest.alert_ids,
                None,
                error=error,
            )
            failed.update(delivery.digest.alert_ids)
            errors.append(error)
            continue
        note = "; ".join(f"{a} refused {c}" for a, (c, _m) in refused.items()) or None
        store.record_digest(
            list(delivery.recipients), part_subject, delivery.digest.alert_ids, now(), error=note
        )
        sent.update(delivery.digest.alert_ids)
        lines.append(f"sent {part_subject} to {to}")
    # An alert goes out when every message holding it was accepted; alerts no recipient's
    # filter wanted are done too (no one is waiting for them).
    done = set(digest.alert_ids) - failed
    store.mark_alerts_sent(sorted(done))
    if errors:
        raise OSError(
            f"{errors[0]} ({len(failed)} alerts left unsent for the next run)"
            + ("; " + "; ".join(lines) if lines else "")
        )
    return "; ".join(lines) or f"nothing for these recipients' filters since {moment}"
