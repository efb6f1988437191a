"""Policy documents: what is a policy, one spelling per document, issuer, date, events."""

from __future__ import annotations

import pytest

from crawler.classify.policies import find_policies, kind_of, normalise_title

PLACES = ("深圳", "北京", "上海", "广东", "武汉")


def places_in(text: str) -> tuple[str, ...]:
    return tuple(sorted((p for p in PLACES if p in text), key=text.index))


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("深圳市加快推动人工智能高质量发展高水平应用行动方案（2023—2024年）", "policy"),
        ("北京市促进通用人工智能创新发展的若干措施", "policy"),
        ("广东省人民政府关于加快建设通用人工智能产业创新引领地的实施意见", "policy"),
        ("上海市促进人工智能产业发展条例", "policy"),
        ("试验区建设工作要点", "policy"),
        ("中华人民共和国数据安全法", "policy"),
        ("中国新一代人工智能发展报告2020", "report"),
        ("全球人工智能战略与政策观察(2020)", "report"),
        ("人工智能标准化白皮书（2023版）", "report"),
        ("杭州日报", "publication"),
        ("新闻周刊", "publication"),
        ("流浪地球", "other"),
        ("实施方案", "other"),
        ("若干措施", "other"),
    ],
)
def test_what_is_a_policy(title: str, kind: str) -> None:
    assert kind_of(normalise_title(title)) == kind


def test_one_spelling_per_document() -> None:
    a = normalise_title("深圳市加快推动人工智能高质量发展高水平应用行动方案(2023-2024年)")
    b = normalise_title("深圳市加快推動人工智能高質量發展高水平應用行動方案（2023—2024年）")
    assert a == b == "深圳市加快推动人工智能高质量发展高水平应用行动方案（2023—2024年）"


def test_issuer_date_and_event() -> None:
    text = (
        "5月31日，深圳市人民政府办公厅印发《深圳市加快推动人工智能高质量发展高水平应用"
        "行动方案（2023-2024年）》，同步发布首批场景清单。"
    )
    (policy,), (event,) = find_policies(text, places_in, 2023)
    assert policy.region == "深圳" and policy.date == "2023-05-31"
    assert event.issuer == "深圳市人民政府办公厅" and event.action == "印发"
    assert event.date == "2023-05-31" and event.policy == policy.title


def test_region_from_context_and_national_issuers() -> None:
    text = (
        "武汉市日前出台《试验区建设工作要点》。"
        "工业和信息化部近日印发《关于推动人工智能赋能新型工业化的指导意见》。"
        "《中国新一代人工智能发展报告2020》显示，产业加速集聚；据《杭州日报》报道。"
    )
    policies, events = find_policies(text, places_in, None)
    assert [(p.title, p.region) for p in policies] == [
        ("试验区建设工作要点", "武汉"),
        ("关于推动人工智能赋能新型工业化的指导意见", "全国"),
    ]
    assert [e.issuer for e in events] == ["武汉市", "工业和信息化部"]


def test_titles_in_a_row_and_repeats() -> None:
    text = (
        "北京日前发布两项政策——《北京市加快建设具有全球影响力的人工智能创新策源地实施方案"
        "（2023—2025年）》《北京市促进通用人工智能创新发展的若干措施》。"
        "其中《北京市促进通用人工智能创新发展的若干措施》提出21项措施。"
    )
    policies, _ = find_policies(text, places_in, 2023)
    assert [p.region for p in policies] == ["北京", "北京"]
    assert policies[1].date is None  # the year range of the first title is not its date
    assert len(policies) == 2


def test_year_only_date() -> None:
    text = "早在2018年广东省政府就制定印发了《广东省新一代人工智能发展规划》。"
    (policy,), (event,) = find_policies(text, places_in, 2023)
    assert policy.date == "2018" and event.issuer == "广东省政府"
