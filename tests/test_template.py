"""A source's template learned from its pages (crawler/extract/template.py): the chrome that
recurs on most of a site's pages leaves the body, the body's own lines stay, a redesign is
learned again; through a real crawl the template is kept in the database, and `newsmon
status` says when a source's extraction falls below its own history."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from sqlite_utils import Database

from crawler.extract import extract_article
from crawler.extract.template import Template
from crawler.pipelines.extract import extract_learning
from tests.support.run import newsmon
from tests.support.templated import (
    SEEDS,
    STOCK,
    TemplatedPage,
    TemplatedSite,
    redesigned,
    templated_site,
)

CHROME_MARKS = ("值得关注", "欢迎各界企业咨询参展", "版权所有")


def body_of(page: TemplatedPage, template: Template | None) -> str:
    url = "http://127.0.0.1:8000" + page.path
    if template is None:
        article = extract_article(page.html.encode(), url)
    else:
        article, observed = extract_learning(page.html.encode(), url, None, None, template.hint())
        if observed is not None:
            template.learn(observed, url)
    assert article is not None, page.path
    return article.text


def chrome_in(text: str) -> bool:
    return any(mark in text for mark in CHROME_MARKS)


def test_learned_template_drops_rotating_chrome_and_keeps_body_lines() -> None:
    site = templated_site(80)
    # Without a template the generic extractor keeps the teasers and the ad in the body.
    assert sum(chrome_in(body_of(page, None)) for page in site[-20:]) >= 15
    template = Template()
    bodies = [body_of(page, template) for page in site]
    assert not any(chrome_in(text) for text in bodies[-50:])
    for page, text in zip(site, bodies, strict=True):
        # Every body line stays, the stock sentence that three pages share too.
        assert all(line in text for line in page.body), page.path
    assert sum(STOCK in text for text in bodies) == sum(STOCK in p.body for p in site) >= 3
    # Revisits of pages already read teach nothing: a body's lines never turn into chrome.
    for page in site[:40]:
        assert all(line in body_of(page, template) for line in page.body)
    assert template.seen == len(site)


def test_template_is_learned_again_after_a_redesign() -> None:
    site = templated_site(60)
    template = Template()
    for page in site:
        body_of(page, template)
    before = template.hint().bodies
    after = redesigned(site)
    bodies = [body_of(page, template) for page in after]
    assert template.relearned == 1
    assert template.hint().bodies and not set(template.hint().bodies) & set(before)
    # While it relearns the generic extractor reads the body; once learned, the new chrome goes.
    assert all(all(line in text for line in p.body) for p, text in zip(after, bodies, strict=True))
    assert not any("欢迎各界企业咨询参展" in text for text in bodies[-20:])
    assert sum("欢迎各界企业咨询参展" in body_of(p, None) for p in after[-20:]) >= 15


def test_template_state_round_trips_and_stays_bounded() -> None:
    template = Template()
    for page in templated_site(120):
        body_of(page, template)
    state = json.loads(json.dumps(template.state()))
    again = Template.from_state(state)
    # What the workers get is the same, the source's usual body length to a tenth.
    assert replace(again.hint(), typical=0) == replace(template.hint(), typical=0)
    assert abs(again.hint().typical - template.hint().typical) < 0.1
    assert len(json.dumps(state)) < 400_000
    assert Template.from_state({"pages": "x"}) == Template()


def test_crawl_keeps_the_template_and_status_tells_a_drop(tmp_path: Path) -> None:
    site = templated_site(64)
    with TemplatedSite(site, shown=40) as served:
        first = served.crawl(tmp_path, SEEDS)
        db = Database(first.db_path)
        row = db.execute("select pages from templates where source_id = 'tpl'").fetchone()
        assert row is not None and row[0] == 40
        # Pages new on later runs are read with the template the first run stored.
        for shown in (46, 52, 58):
            served.shown = shown
            served.crawl(tmp_path, SEEDS)
        later = {p.path for p in site[40:58]}
        texts = [
            text
            for url, text in db.execute("select url, text from articles")
            if url.split("/", 3)[3] in {p.lstrip("/") for p in later}
        ]
        assert len(texts) == 18 and not any(chrome_in(text) for text in texts)
        assert (
            "extraction quality dropped"
            not in newsmon("status", "--db", str(first.db_path), "--seeds", str(first.seeds)).stdout
        )
        # The site breaks: its new pages come as empty shells.
        served.shells = {p.path for p in site[58:64]}
        served.shown = 64
        served.crawl(tmp_path, SEEDS)
    status = newsmon("status", "--db", str(first.db_path), "--seeds", str(first.seeds))
    lines = [line for line in status.stdout.splitlines() if "extraction quality dropped" in line]
    assert lines == [
        "extraction quality dropped: tpl: 100% of article pages held no article (usually 0%)"
    ]
