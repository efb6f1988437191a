"""Settings from a TOML file deep-merged over defaults; secrets only from the environment.

The file (``--config``, else ``$NEWSMON_CONFIG``, else ``./newsmon.toml`` if present, else
``newsmon/newsmon.toml`` in the user's config folder if present) holds ``[smtp]``, ``[digest]``,
``[serve]``, ``[redis]`` and ``[paths]``; the SMTP password is never in it, only the *name* of the
environment variable that holds it (``password_env``).
"""

from __future__ import annotations

import copy
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

from crawler.clock import duration_seconds
from crawler.files import read_text

CONFIG_ENV = "NEWSMON_CONFIG"
DEFAULT_FILE = Path("newsmon.toml")
USER_CONFIG_ENV = "XDG_CONFIG_HOME"
SECURITY = ("starttls", "ssl", "none")

DEFAULTS: dict[str, Any] = {
    "smtp": {
        "host": "localhost",
        "port": 587,
        "security": "starttls",
        "user": "",
        "password_env": "NEWSMON_SMTP_PASSWORD",
        "from": "newsmon@localhost",
        "to": [],
        "timeout": 30,
    },
    "digest": {
        # Only narrows a --dry-run preview: a digest sent always holds every unsent alert.
        "since": "",
        "time": "07:30",
        "subject_prefix": "",
        "recipient": [],
        # The digest's times: its readers follow Chinese policy news, in Beijing time.
        "timezone": "Asia/Shanghai",
    },
    # Where `newsmon serve` is reached from the digest's readers (http://host:8001): each
    # article in a digest links to its page there. Empty: no such links.
    "serve": {"base_url": ""},
    # Crawl with other hosts through this Redis (crawler.distributed); empty: alone.
    "redis": {"url": ""},
    # Where the database and the seed files are (crawler.paths); empty: the defaults.
    "paths": {"db": "", "seeds": ""},
}
RECIPIENT_KEYS = {"address", "regions", "topics"}
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# An address's local part and domain: none of the characters that separate or group
# addresses in a header (, ; < > " ( ) [ ] :), no whitespace or control characters.
_ADDR = r"[^\s\x00-\x1f\x7f@,;<>\"()\[\]:\\]+@[^\s\x00-\x1f\x7f@,;<>\"()\[\]:\\]+"
ADDRESS = re.compile(rf"(?P<address>{_ADDR})\Z")
# A name before one <address>: no separators, quotes, brackets, @ or line breaks in it.
NAMED_ADDRESS = re.compile(rf"[^\x00-\x1f\x7f@,;<>\"()\[\]:\\]*?\s*<(?P<address>{_ADDR})>\Z")


@dataclass(frozen=True)
class Recipient:
    """An address and what it wants: articles of these regions or topics (none = everything)."""

    address: str
    regions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    @property
    def filtered(self) -> bool:
        return bool(self.regions or self.topics)


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 587
    security: str = "starttls"
    user: str = ""
    password_env: str = "NEWSMON_SMTP_PASSWORD"
    sender: str = "newsmon@localhost"
    to: tuple[str, ...] = ()
    timeout: float = 30

    def password(self) -> str:
        """The password from the environment variable named by ``password_env``."""
        value = os.environ.get(self.password_env)
        if not value:
            raise ValueError(
                f"SMTP user {self.user!r} is set but environment variable "
                f"{self.password_env} (password_env) is empty or unset"
            )
        return value


@dataclass(frozen=True)
class DigestSettings:
    since: str = ""
    time: str = "07:30"
    subject_prefix: str = ""
    recipients: tuple[Recipient, ...] = ()
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class Config:
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    redis_url: str | None = None
    serve_base_url: str | None = None
    db: Path | None = None
    seeds: Path | None = None
    path: Path | None = None


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, tables merged key by key, everything else replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def user_config_file() -> Path:
    """The settings file in the user's config folder: ``$XDG_CONFIG_HOME`` or ~/.config."""
    base = os.environ.get(USER_CONFIG_ENV, "")
    # The XDG spec ignores a relative value: it would change with the current directory.
    folder = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return folder / "newsmon" / "newsmon.toml"


def config_path(path: Path | None = None) -> Path | None:
    """The settings file to read: the one given, ``$NEWSMON_CONFIG``, ./newsmon.toml, or the
    user's (:func:`user_config_file`); the last two only if present."""
    if path is not None:
        return path
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    for candidate in (DEFAULT_FILE, user_config_file()):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None) -> Config:
    """The settings: defaults, with the file (if any) merged over them, validated."""
    path = config_path(path)
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(read_text(path))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: {exc}") from None
        except OSError as exc:
            raise ValueError(f"{path}: cannot read the settings file: {exc}") from None
    return parse_config(deep_merge(DEFAULTS, data), path)


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    """Validated settings from merged data; unknown keys and bad values are errors."""
    where = str(path) if path else "settings"
    _known(data, set(DEFAULTS), where)
    smtp, digest = data["smtp"], data["digest"]
    _known(smtp, set(DEFAULTS["smtp"]), f"{where} [smtp]")
    _known(digest, set(DEFAULTS["digest"]), f"{where} [digest]")
    _known(data["redis"], set(DEFAULTS["redis"]), f"{where} [redis]")
    _known(data["serve"], set(DEFAULTS["serve"]), f"{where} [serve]")
    _known(data["paths"], set(DEFAULTS["paths"]), f"{where} [paths]")
    redis_url = str(data["redis"]["url"] or "") or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"{where} [redis] url must start with redis://, rediss:// or unix://")
    if smtp["security"] not in SECURITY:
        raise ValueError(
            f"{where} [smtp] security must be one of {', '.join(SECURITY)}, "
            f"not {smtp['security']!r}"
        )
    if not isinstance(smtp["port"], int) or not 0 < smtp["port"] < 65536:
        raise ValueError(f"{where} [smtp] port must be a number 1-65535, not {smtp['port']!r}")
    timeout = smtp["timeout"]
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not 1 <= timeout <= 600  # also false for nan; inf is past 600
    ):
        raise ValueError(f"{where} [smtp] timeout must be a number 1-600 seconds, not {timeout!r}")
    if not ENV_NAME.match(str(smtp["password_env"])):
        # Not echoed: what was written where a variable's name belongs may be the password.
        raise ValueError(
            f"{where} [smtp] password_env must name an environment variable "
            "(like NEWSMON_SMTP_PASSWORD), and the value given is not a name"
        )
    if digest["since"] != "" and not _duration(digest["since"]):
        raise ValueError(
            f"{where} [digest] since must look like 1w, 1d, 12h or 30m, not {digest['since']!r}"
        )
    if not _zone(digest["timezone"]):
        raise ValueError(
            f"{where} [digest] timezone must name a time zone like Asia/Shanghai,"
            f" not {digest['timezone']!r}"
        )
    base_url = data["serve"]["base_url"]
    if not isinstance(base_url, str) or (
        base_url and not re.match(r"https?://[^\s/]+(/\S*)?\Z", base_url)
    ):
        raise ValueError(
            f"{where} [serve] base_url must be an http(s):// address like"
            f" http://newsmon.example.cn:8001, not {base_url!r}"
        )
    if not TIME.match(str(digest["time"])):
        raise ValueError(f"{where} [digest] time must be HH:MM, not {digest['time']!r}")
    recipients = []
    for i, entry in enumerate(digest["recipient"], 1):
        _known(entry, RECIPIENT_KEYS, f"{where} [[digest.recipient]] #{i}")
        if not entry.get("address"):
            raise ValueError(f"{where} [[digest.recipient]] #{i} has no address")
        recipients.append(
            Recipient(
                address=check_address(entry["address"], f"{where} [[digest.recipient]] #{i}"),
                regions=_strings(entry.get("regions", []), where),
                topics=_strings(entry.get("topics", []), where),
            )
        )
    return Config(
        smtp=SmtpSettings(
            host=str(smtp["host"]),
            port=smtp["port"],
            security=smtp["security"],
            user=str(smtp["user"] or ""),
            password_env=str(smtp["password_env"]),
            sender=check_address(smtp["from"], f"{where} [smtp] from"),
            to=tuple(check_address(a, f"{where} [smtp] to") for a in _strings(smtp["to"], where)),
            timeout=float(smtp["timeout"]),
        ),
        digest=DigestSettings(
            since=str(digest["since"]),
            time=str(digest["time"]),
            subject_prefix=_header_safe(digest["subject_prefix"]),
            recipients=tuple(recipients),
            timezone=digest["timezone"],
        ),
        redis_url=redis_url,
        serve_base_url=base_url.rstrip("/") or None,
        db=_path(data["paths"]["db"], path, f"{where} [paths] db"),
        seeds=_path(data["paths"]["seeds"], path, f"{where} [paths] seeds"),
        path=path,
    )


def _duration(value: Any) -> bool:
    try:
        return isinstance(value, str) and duration_seconds(value) > 0
    except (ValueError, OverflowError):
        return False


def _zone(value: Any) -> bool:
    # Only the zones the tz database lists: ZoneInfo opens any path it is given ("Asia" is a
    # folder, "../x" a file elsewhere) and fails there in ways of its own.
    return isinstance(value, str) and value in available_timezones()


def _known(table: Any, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a table")
    if "password" in table:
        # Refused wherever it is written, not only in [smtp]: a password in the file would
        # be read by anyone who can read the file. The value is never part of the message.
        raise ValueError(f"{where}: put the password in the environment (password_env)")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key {', '.join(unknown)}")


def _path(value: Any, settings_file: Path | None, where: str) -> Path | None:
    """A path of the [paths] table; a relative one is taken from the settings file's folder,
    so that the file means the same whatever the current directory."""
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a path in quotes, not {value!r}")
    if not value:
        return None
    given = Path(value).expanduser()
    if settings_file is None or given.is_absolute():
        return given
    return settings_file.parent / given


def _strings(values: Any, where: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{where}: expected a list of strings, not {values!r}")
    return tuple(values)


def check_address(value: Any, where: str = "address") -> str:
    """One email address, bare or after a name (``新闻监测 <newsmon@example.cn>``), on one
    line. A list (commas, semicolons, several <...>), whitespace inside the address or CR/LF
    is an error: one value must never become several recipients or a header of its own."""
    text = str(value).strip()
    one_line = not any(c in str(value) for c in "\r\n")
    if not one_line or not (NAMED_ADDRESS.match(text) or ADDRESS.match(text)):
        raise ValueError(
            f"{where}: not an email address (one per value, like analyst@example.cn): {text!r}"
        )
    return text


def _header_safe(value: Any) -> str:
    """One line: a value bound for a mail header never carries CR/LF (no header injection)."""
    return " ".join(str(value).split())
