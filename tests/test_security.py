"""Security against real parts: hostile text crawled from a page (or saved as a crawl saves
it) stays text in digests and in Datasette as headless Chromium renders it; CR/LF adds no mail
header; hostile search terms stay data; the SMTP password lives only in the environment."""

from __future__ import annotations

import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import lxml.html
import pytest
from sqlite_utils import Database

from crawler.clock import now
from crawler.db import Store, open_db
from crawler.demo.server import DemoServer
from crawler.demo.site import load_site
from crawler.extract import Article
from tests.support.digest import bodies, digest, unsent, write_config
from tests.support.run import newsmon
from tests.support.smtp import Accounts, Inbox, b64, raw
from tests.support.web import CHROMIUM, chromium, get, get_json, served

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
SVG = '"><svg onload=alert(3)>'
PAYLOADS = (SCRIPT, IMG, SVG)
CRLF_TITLE = "新政\r\nBcc: evil@example.com\r\nX-Injected: 1"
HOSTILE_TERMS = ("'); drop table articles; --", '" OR 1=1 --')
PASSWORD = "s3cr3t-Tz9!q"
WRONG = "wr0ng-Xq2#v"

# A page of the demo site that shows markup as text, as a page quoting a script would.
HOSTILE_PAGE = {
    "id": "hefei-compute-hostile",
    "section": "policy",
    "published": "2025-06-21 10:00",
    "title": f"合肥发布算力补贴新政{SCRIPT}",
    "outlet": "合肥日报",
    "author": "记者 王五",
    "editor": "李四",
    "region": "合肥",
    "paragraphs": [
        f"6月21日，合肥市经济和信息化局印发算力补贴办法{IMG}，面向在肥注册的中小企业和科研"
        "机构发放算力券，用于购买本地智算中心的训练和推理算力。",
        f"根据办法{SVG}，单家中小企业年度可申领算力券最高200万元，科研机构最高100万元，"
        "算力券可抵扣算力服务费用的50%。",
        "合肥人工智能计算中心相关负责人介绍，中心目前可提供约400PFlops的人工智能算力，"
        "今年下半年还将新增200PFlops。",
    ],
}
GUIDE_TEXT = (
    f"合肥市发布算力券申领指南{IMG}，企业可在线提交申请材料。\n"
    f"申领指南明确{SVG}，每季度开放一次申报窗口，审核周期不超过二十个工作日。"
)


def _article(url: str, title: str, text: str) -> Article:
    return Article(
        url=url, title=title, text=text, published="2025-06-22T09:00:00+08:00",
        author=None, outlet="合肥日报", encoding="utf-8", simplified=text,
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo site with a hostile page, crawled; then, saved as a crawl saves them, an edit
    of that page, an article titled with a script (at a ``javascript:`` URL) and one whose
    title carries CR/LF and headers. Named news.db: Datasette serves it as /news."""
    path = tmp_path_factory.mktemp("security") / "news.db"
    site = load_site().updated({"article": [HOSTILE_PAGE]}, now())
    with DemoServer(site) as server:
        newsmon("crawl", "--source", "demo", "--base-url", server.url, "--db", str(path), "--quiet")
    store = Store(open_db(path))
    crawled = next(store.db.query("select * from articles where text like ?", [f"%{IMG}%"]))
    run = store.start_run("demo")
    edited = crawled["text"].replace("科研机构最高100万元", f"科研机构最高150万元{IMG}")
    edit = _article(crawled["url"], crawled["title"], edited)
    assert store.save_article(edit, "demo", run, now())[0] == "updated"
    guide = _article("javascript:alert(4)//guide", f"{SCRIPT}合肥算力券申领指南", GUIDE_TEXT)
    crlf = _article("http://127.0.0.1/policy/crlf.html", CRLF_TITLE, "某地出台新政，支持企业发展。")
    for article in (guide, crlf):
        assert store.save_article(article, "demo", run, now())[0] == "new"
    store.finish_run(run, "ok", {}, None, {})
    kinds = {r["title"]: r["kind"] for r in store.db.query("select kind, title from alerts")}
    assert kinds[guide.title] == kinds[CRLF_TITLE] == "new_article"
    assert kinds[crawled["title"]] == "changed_article"
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.db.close()
    return path


@pytest.fixture(scope="module")
def site(demo_db: Path) -> Iterator[str]:
    """`newsmon serve` of this module's demo_db on a free port; its base URL."""
    with served(demo_db) as base:
        yield base


@pytest.fixture
def db_copy(demo_db: Path, tmp_path: Path) -> Path:
    """A copy of the hostile database for one test to mark sent as it likes."""
    path = tmp_path / "news.db"
    shutil.copy(demo_db, path)
    return path


@pytest.fixture
def mailbox() -> Iterator[tuple[Inbox, Accounts, int]]:
    """The SMTP inbox offering AUTH without TLS (login optional) for user ``bot``."""
    accounts = Accounts("bot", PASSWORD)
    with Inbox(accounts) as handler:
        yield handler, accounts, handler.port


def settings(path: Path, port: int, smtp: str = "", prefix: str | None = None) -> Path:
    """The digest tests' settings file, with ``smtp`` lines added to [smtp] and another prefix."""
    write_config(path, port)
    text = path.read_text(encoding="utf-8").replace("[smtp]\n", f"[smtp]\n{smtp}\n", 1)
    if prefix is not None:
        text = text.replace('subject_prefix = "[政策日报]"', f"subject_prefix = {prefix}")
    path.write_text(text, encoding="utf-8")
    return path


def injected(page: str) -> list[str]:
    """What in ``page`` (HTML or a dumped DOM) is markup a hostile text could have added:
    event handlers (the img and svg payloads), img src=x, scripts that alert, javascript:
    links. A Datasette or digest page has none of its own."""
    tree = lxml.html.document_fromstring(page)
    found = [
        f"<{el.tag} {name}>"
        for el in tree.iter()
        if isinstance(el.tag, str)
        for name in el.attrib
        if name.lower().startswith("on")
    ]
    found += [f"<img src={img.get('src')}>" for img in tree.iter("img") if img.get("src") == "x"]
    found += ["<script>alert" for s in tree.iter("script") if "alert(" in (s.text or "")]
    found += [
        f"<a href={a.get('href')}>"
        for a in tree.iter("a")
        if (a.get("href") or "").strip().lower().startswith("javascript:")
    ]
    return found


def shown_text(page: str) -> str:
    return str(lxml.html.document_fromstring(page).text_content())


def test_the_crawl_stores_hostile_body_text_as_it_was_shown(demo_db: Path) -> None:
    # Otherwise the tests below would test nothing: the page's body reaches the database as
    # the text its reader saw. (The extractor drops the script from the <h1> title, so a
    # script title is saved through Store in demo_db.)
    [row] = Database(demo_db).query(
        "select versions.text, articles.url from versions join articles on articles.id = article_id"
        " where versions.version = 1 and versions.text like ? and articles.url like 'http%'",
        [f"%{SVG}%"],
    )
    assert IMG in row["text"] and row["url"].startswith("http://127.0.0.1:")


def test_digests_show_hostile_titles_and_bodies_as_text(
    db_copy: Path, mailbox: tuple[Inbox, Accounts, int], tmp_path: Path
) -> None:
    handler, _, port = mailbox
    out = tmp_path / "digest.html"
    newsmon("digest", "--db", str(db_copy), "--out", str(out), "--dry-run")
    digest(db_copy, write_config(tmp_path / "newsmon.toml", port))
    [message] = handler.messages()
    text, html = bodies(message)
    for page in (out.read_text(encoding="utf-8"), html):
        assert injected(page) == []
        shown = shown_text(page)
        # The title and the edited sentence (img in the added part, svg in its context).
        assert SCRIPT in shown and IMG in shown and SVG in shown
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # The plain part is plain text: the payloads as a reader should see them, not entities.
    assert SCRIPT in text and IMG in text and "&lt;" not in text


def test_cr_lf_in_titles_and_the_subject_prefix_adds_no_header_or_recipient(
    db_copy: Path, mailbox: tuple[Inbox, Accounts, int], tmp_path: Path
) -> None:
    handler, _, port = mailbox
    config = settings(
        tmp_path / "newsmon.toml",
        port,
        prefix='"[日报]\\r\\nBcc: evil@example.com\\r\\nX-Injected: 1\\n\\nbody"',
    )
    summary = digest(db_copy, config)
    assert summary.startswith("sent [日报] Bcc: evil@example.com X-Injected: 1 body 更新 1")
    [envelope] = handler.envelopes
    assert envelope.rcpt_tos == ["analyst@example.cn"]
    head = raw(envelope).split(b"\r\n\r\n")[0].split(b"\r\n")
    names = [line.split(b":")[0].lower() for line in head if not line.startswith((b" ", b"\t"))]
    assert b"bcc" not in names and b"x-injected" not in names
    assert sorted(set(names)) == sorted(names) and b"subject" in names
    [message] = handler.messages()
    assert message["Bcc"] is None and message["X-Injected"] is None
    subject = message["Subject"]
    assert subject.startswith("[日报] Bcc: evil@example.com") and "X-Injected" in subject
    text, html = bodies(message)
    # The title is in the digest, on one line.
    assert "新政 Bcc: evil@example.com X-Injected: 1" in text
    assert "新政 Bcc: evil@example.com X-Injected: 1" in shown_text(html)


@pytest.fixture(scope="module")
def article_ids(demo_db: Path) -> dict[str, int]:
    db = Database(demo_db)
    return {
        "hostile": next(db.query("select id from articles where version = 2"))["id"],
        "guide": next(db.query("select id from articles where url like 'javascript:%'"))["id"],
    }


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not on PATH (apt-get install chromium)")
@pytest.mark.parametrize(
    ("page", "shown"),
    [
        ("articles", (SCRIPT, IMG)),  # the table: titles and text previews
        ("articles?_search=" + quote("合肥"), (SCRIPT, IMG)),  # search results
        ("articles?" + urlencode({"_search": SVG}), ()),  # the term in the search box
        ("articles/{hostile}", (IMG, SVG)),  # article page: the crawled body, its edit
        ("articles/{guide}", PAYLOADS),  # article page: script title, javascript: URL
        ("versions", (IMG,)),
        ("alerts?_sort_desc=id", (SCRIPT,)),
        ("article_index", (SCRIPT,)),
        ("changed_articles", (IMG, SVG)),  # canned queries
        ("new_this_week", (SCRIPT,)),
    ],
)
def test_datasette_pages_show_hostile_text_as_text(
    page: str, shown: tuple[str, ...], site: str, article_ids: dict[str, int], tmp_path: Path
) -> None:
    url = f"{site}/news/{page.format(**article_ids)}"
    assert injected(get(url)) == []
    try:
        dom = chromium("--dump-dom", url, profile=tmp_path / "profile")
    except subprocess.TimeoutExpired:
        pytest.fail(f"{url} never finished loading: an alert() dialog blocks headless Chromium")
    assert injected(dom) == []
    text = shown_text(dom)
    assert [p for p in shown if p not in text] == [], url
    if not shown:
        boxes = lxml.html.document_fromstring(dom).xpath("//input[@name='_search']")
        assert SVG in [box.get("value") for box in boxes]


def test_hostile_search_terms_are_data(site: str, demo_db: Path) -> None:
    db = Database(demo_db)
    count = db["articles"].count
    before = get_json(f"{site}/news/articles.json?_search={quote('算力')}&_shape=array&_size=max")
    for term in HOSTILE_TERMS:
        found = get_json(f"{site}/news/articles.json?{urlencode({'_search': term})}&_shape=array")
        assert found == [], term
        # Raw FTS syntax: a clean refusal or no rows, never every row.
        raw_query = urlencode({"_search": term, "_searchmode": "raw", "_shape": "array"})
        try:
            assert len(get_json(f"{site}/news/articles.json?{raw_query}")) < count
        except urllib.error.HTTPError as exc:
            exc.close()
            assert exc.code == 400, term
        # A canned query's parameter.
        region = urlencode({"region": term, "_shape": "array"})
        assert get_json(f"{site}/news/new_policies_by_region.json?{region}") == []
    # Datasette runs the SQL a visitor writes, but only a single select.
    for sql in ("drop table articles", "select 1; drop table articles"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{site}/news.json?{urlencode({'sql': sql})}", timeout=30)
        refused.value.close()
        assert refused.value.code == 400
    assert db["articles"].exists() and db["articles"].count == count
    after = get_json(f"{site}/news/articles.json?_search={quote('算力')}&_shape=array&_size=max")
    assert after == before and len(after) > 3


def test_hostile_digest_options_are_refused_or_match_nothing(
    db_copy: Path, mailbox: tuple[Inbox, Accounts, int], tmp_path: Path
) -> None:
    handler, _, port = mailbox
    count = Database(db_copy)["articles"].count
    for option, message in (("--since", "--since must look like"), ("--to", "not an email")):
        for term in HOSTILE_TERMS:
            result = newsmon("digest", "--db", str(db_copy), option, term, "--dry-run", check=False)
            assert result.returncode == 1 and result.stdout == ""
            assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
            assert message in result.stderr
    # A recipient's region filter is compared as a name: it matches no article, not all.
    recipient = f'[[digest.recipient]]\naddress = "x@example.cn"\nregions = ["{HOSTILE_TERMS[0]}"]'
    config = write_config(tmp_path / "newsmon.toml", port, recipient, to="[]")
    assert digest(db_copy, config).startswith("nothing for these recipients' filters")
    assert handler.envelopes == []
    assert Database(db_copy)["articles"].count == count


def _stored(db_path: Path) -> bytes:
    """Every byte newsmon left on disk for this database (the file, its WAL and shm)."""
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*") if p.is_file())


def _leaks(secret: str, *places: str | bytes) -> list[str | bytes]:
    forms = {secret, b64(secret), b64(f"\0bot\0{secret}")}
    return [
        place[:200]
        for place in places
        for form in forms
        if (form.encode() if isinstance(place, bytes) else form) in place
    ]


def test_the_smtp_password_comes_from_the_environment_and_goes_nowhere(
    db_copy: Path,
    mailbox: tuple[Inbox, Accounts, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler, accounts, port = mailbox
    config = settings(tmp_path / "newsmon.toml", port, smtp='user = "bot"')
    args = ("digest", "--db", str(db_copy), "--config", str(config))

    monkeypatch.setenv("NEWSMON_SMTP_PASSWORD", WRONG)
    refused = newsmon(*args, check=False)
    assert refused.returncode == 1 and accounts.logins and not any(ok for _, ok in accounts.logins)
    assert "refused the digest: 535" in refused.stderr and refused.stderr.count("\n") == 1
    assert handler.envelopes == [] and unsent(db_copy) > 0
    errors = [r["error"] for r in Database(db_copy).query("select error from digests")]
    assert [e for e in errors if e and "535" in e]

    monkeypatch.setenv("NEWSMON_SMTP_PASSWORD", PASSWORD)
    sent = newsmon(*args)
    assert sent.stdout.startswith("sent ") and (b"bot", True) in accounts.logins
    assert len(handler.envelopes) == 1 and unsent(db_copy) == 0

    rows = str(list(Database(db_copy).query("select * from digests")))
    for secret in (WRONG, PASSWORD):
        assert _leaks(
            secret, refused.stdout, refused.stderr, sent.stdout, sent.stderr, rows,
            _stored(db_copy), raw(handler.envelopes[0]),
        ) == []  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        f'[smtp]\nuser = "bot"\npassword = "{PASSWORD}"\n',
        f'password = "{PASSWORD}"\n',
        f'[digest]\npassword = "{PASSWORD}"\n',
        f'[[digest.recipient]]\naddress = "a@example.cn"\npassword = "{PASSWORD}"\n',
        f'[smtp]\nuser = "bot"\npassword_env = "{PASSWORD}"\n',
    ],
    ids=["smtp", "top", "digest", "recipient", "password_env"],
)
def test_a_password_in_the_settings_file_is_refused_without_showing_it(
    text: str, db_copy: Path, tmp_path: Path
) -> None:
    config = tmp_path / "newsmon.toml"
    config.write_text(text, encoding="utf-8")
    result = newsmon("digest", "--db", str(db_copy), "--config", str(config), "--dry-run",
                     check=False)  # fmt: skip
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "password_env" in result.stderr and PASSWORD not in result.stderr
