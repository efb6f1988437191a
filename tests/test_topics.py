"""Topics, keywords and money amounts: short texts written for these tests, and the seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.classify.amounts import amounts
from crawler.classify.keywords import keywords
from crawler.classify.topics import TaxonomyError, load_taxonomy, tag_topics
from crawler.clean import clean_text
from crawler.clean.script import to_simplified

SEEDS = Path(__file__).parent / "fixtures" / "seed-docs"
LABELS = json.loads((SEEDS / "labels.json").read_text("utf-8"))

# Each topic from two or three sentences that cover it, as a news report would.
COVERED = {
    "policy": "市政府办公厅近日印发《关于加快人工智能产业发展的若干措施》。《若干措施》共20条，"
    "自印发之日起施行，有效期三年。",
    "compute": "该市新建的智算中心一期投入运营，智能算力达到500PFlops。"
    "算力券同步发放，企业租用算力可获补贴。",
    "models": "本地企业发布的行业大模型已完成生成式人工智能服务备案。"
    "该大模型基于千亿参数的基础模型训练而成。",
    "data": "该市将建立公共数据授权运营机制，首批开放数据集300个。"
    "本地数据交易所同步上线训练数据专区。",
    "funding": "该区设立规模50亿元的人工智能产业基金，由引导基金和社会资本共同出资。"
    "对初创企业给予最高500万元资助。",
    "talent": "该市出台人工智能人才专项政策，对引进的领军人才给予安家补贴。"
    "高校毕业生留在本地就业的，还可申请人才公寓。",
    "zones": "国家人工智能创新应用先导区名单公布。该市将在先导区内建设人工智能产业园，"
    "打造特色产业集聚区。",
    "scenarios": "市经信局发布第二批人工智能应用场景清单，共36个场景。"
    "这些场景开放后，将推动人工智能赋能千行百业。",
    "vehicles": "首批智能网联汽车获发测试牌照，可在开放道路开展自动驾驶测试。"
    "无人驾驶出租车将在年底前投入示范运营。",
    "healthcare": "这家企业的AI制药平台缩短了新药研发周期。"
    "医院引入的医学影像辅助诊断系统已服务患者十万人次。",
    "manufacturing": "该市推进智能制造，首批人形机器人进入工厂产线。"
    "工业互联网平台已连接设备五万台。",
    "governance": "该市率先开展人工智能立法，条例明确了伦理审查和安全评估要求。"
    "同时将制定算法备案的地方标准体系。",
    "research": "国家实验室牵头开展关键核心技术攻关，重点突破智能芯片。"
    "科研团队在基础研究上取得进展，推动国产替代。",
    "industry_scale": "2023年全市人工智能核心产业规模达到2500亿元，同比增长18%。"
    "人工智能企业数量超过1500家，居全国第一梯队。",
    "smart_city": "该市城市大脑接入政务服务事项2000项，12345热线实现接诉即办。"
    "智慧城市建设让一网通办覆盖全市。",
}


def topics_of(text: str, title: str | None = None) -> set[str]:
    return {tag.topic for tag in tag_topics(text, title)}


@pytest.mark.parametrize("topic", sorted(COVERED))
def test_each_topic_is_found_in_a_short_text_that_covers_it(topic: str) -> None:
    assert topic in topics_of(COVERED[topic])


def test_every_topic_of_the_taxonomy_has_a_text() -> None:
    assert {t.id for t in load_taxonomy().topics} == set(COVERED)


def test_a_passing_mention_is_not_a_topic() -> None:
    text = (
        "该市新建的智算中心一期投入运营，智能算力达到500PFlops。"
        "运营方表示，算力已签约八成，主要客户来自交通、医疗、教育等领域。"
        "此前，该市还设立了人工智能产业基金。"
        "算力调度平台同步上线，统一调度全市算力资源。"
    )
    found = topics_of(text)
    assert "compute" in found
    # One list of sectors is not healthcare; one sentence on a fund is not funding.
    assert "healthcare" not in found and "funding" not in found


def test_in_a_brief_one_mention_is_coverage() -> None:
    fund = "深圳统筹设立规模1000亿元的人工智能基金群。"
    assert "funding" in topics_of(fund + "深圳将努力创建人工智能先锋城市。")
    others = "深圳人工智能企业超过1900家。今年以来多家企业发布新品。市民参观热情很高。"
    assert "funding" not in topics_of(others + fund + others)


def test_a_word_repeated_counts_less_than_several_words() -> None:
    once = tag_topics("该市发展机器人产业。机器人企业有50家。", None)
    assert "manufacturing" in {t.topic for t in once}  # 机器人 is a strong cue
    vague = "该市发展工业。工业企业有50家。工业产值增加。工业用地扩大。"
    assert "manufacturing" not in topics_of(vague)


def test_each_tag_shows_the_sentence_that_best_shows_it() -> None:
    text = "今年天气很好。" + COVERED["compute"] + "市民出行方便。"
    (tag,) = [t for t in tag_topics(text) if t.topic == "compute"]
    assert tag.evidence == "该市新建的智算中心一期投入运营，智能算力达到500PFlops。"
    assert tag.score >= 1.0


def test_the_title_counts_more_than_the_body() -> None:
    body = "该市智算中心投入运营。企业纷纷前来。"
    assert "compute" not in topics_of("今年天气很好。企业纷纷前来。算力供给增加。")
    assert "compute" in topics_of(body, "智算中心投用 算力券同步发放")


def test_traditional_text_is_tagged_like_simplified() -> None:
    traditional = "該市新建的智算中心一期投入運營，智能算力達到500PFlops。算力券同步發放。"
    assert "compute" in topics_of(traditional)
    assert "models" in topics_of("本地企業發布的行業大模型已完成備案。該大模型參數千億。")


def test_a_users_taxonomy_adds_cues_and_topics(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text(
        """
[topics.compute.cues]
"液冷机柜" = 3.0

[topics.quantum]
name = "量子科技"
threshold = 3.0

[topics.quantum.cues]
"量子计算" = 2.5
"量子通信" = 2.5
""",
        encoding="utf-8",
    )
    taxonomy = load_taxonomy(extra)
    text = "液冷机柜已批量交付。新建液冷机柜三千台。量子计算与量子通信取得突破。"
    found = {t.topic for t in tag_topics(text, None, taxonomy)}
    assert {"compute", "quantum"} <= found
    assert not {"compute", "quantum"} & topics_of(text)  # the shipped taxonomy knows neither


def test_a_users_taxonomy_changes_weights_and_thresholds(tmp_path: Path) -> None:
    extra = tmp_path / "mine.toml"
    extra.write_text('[scoring]\nthreshold = 40.0\n\n[topics.compute.cues]\n"算力" = 0\n')
    taxonomy = load_taxonomy(extra)
    assert "算力" not in next(t for t in taxonomy.topics if t.id == "compute").cues
    assert tag_topics(COVERED["compute"], None, taxonomy) == ()


def test_a_users_topic_can_take_one_mention(tmp_path: Path) -> None:
    text = "天津港上线智能调度系统。效率提升两成。船舶在港时间缩短。调度员负责审核。"
    ports = (
        '[topics.ports]\nname = "港口"\nthreshold = 1.0\n{}[topics.ports.cues]\n"天津港" = 1.0\n'
    )
    extra = tmp_path / "ports.toml"
    extra.write_text(ports.format(""), encoding="utf-8")
    assert "ports" not in {t.topic for t in tag_topics(text, None, load_taxonomy(extra))}
    extra.write_text(ports.format("min_mentions = 1\n"), encoding="utf-8")
    assert "ports" in {t.topic for t in tag_topics(text, None, load_taxonomy(extra))}


@pytest.mark.parametrize(
    "content, message",
    [
        ("[topics.compute]\ntreshold = 3.0\n", "unknown key 'treshold' in [topics.compute]"),
        ('[scoring]\nthreshold = "high"\n', "'threshold' must be a number > 0"),
        ('[topics.new]\nname = "新"\n', "a new topic needs a 'name' and 'cues' or 'patterns'"),
        ('[topics.policy.patterns]\n"《[^》" = 2.0\n', "bad pattern"),
        ('[topics.policy.cues]\n"通知" = "high"\n', "weight of '通知' must be a number"),
        ("[topics.policy\n", "cannot read taxonomy file"),
        ("colour = 1\n", "unknown key 'colour' at the top level"),
    ],
)
def test_a_bad_taxonomy_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(TaxonomyError) as error:
        load_taxonomy(bad)
    assert str(error.value).startswith(str(bad)) and message in str(error.value)


def test_a_taxonomy_error_names_the_line_and_the_likely_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[topics.compute]\nname = "算力"\ntreshold = 3.0\n', encoding="utf-8")
    with pytest.raises(TaxonomyError, match=r"bad\.toml:3: .*did you mean 'threshold'\?"):
        load_taxonomy(bad)


def test_every_problem_of_a_taxonomy_file_is_on_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[topics.x]\nweight = "heavy"\n', encoding="utf-8")
    with pytest.raises(TaxonomyError) as error:
        load_taxonomy(bad)
    assert len(error.value.problems) == 2 and "\n" not in str(error.value)


def seed_body(name: str) -> str:
    text = clean_text((SEEDS / name).read_text("utf-8"), LABELS[name]["title"]).simplified
    return text


def test_the_seeds_gold_topics() -> None:
    predicted = required = right = found = 0
    for name, label in LABELS.items():
        if name.startswith("_"):
            continue
        gold = label["topics"]
        got = topics_of(seed_body(name), label["title"])
        allowed = set(gold["required"]) | set(gold["optional"])
        assert got <= allowed, (name, got - allowed)
        predicted, right = predicted + len(got), right + len(got & allowed)
        required, found = required + len(gold["required"]), found + len(got & set(gold["required"]))
    precision, recall = right / predicted, found / required
    assert 2 * precision * recall / (precision + recall) >= 0.9


def test_keywords_are_the_articles_own_words_without_generic_ones() -> None:
    name = "000_f7b7a286e250469f.txt"
    words = keywords(seed_body(name), LABELS[name]["title"])
    assert len(words) == 10 and len(set(words)) == 10
    assert {"大模型", "算力"} <= set(words)  # domain words come out whole
    assert not {"发展", "推动", "企业", "工作", "建设"} & set(words)


@pytest.mark.parametrize("count", [5, 15])
def test_keywords_come_in_the_number_asked(count: int) -> None:
    name = "004_a88744b012a21710.txt"
    assert len(keywords(seed_body(name), LABELS[name]["title"], count)) == count


def test_keywords_outside_5_to_15_are_refused() -> None:
    with pytest.raises(ValueError, match="between 5 and 15"):
        keywords(COVERED["compute"], count=20)


def test_keywords_of_traditional_text_are_simplified() -> None:
    words = keywords(
        "深圳發布人工智能行動方案，設立千億元人工智能基金群，支持大模型和智算中心建設。"
        "基金群重點投向大模型、智能芯片和機器人。",
        "深圳設立人工智能基金群",
    )
    assert "基金群" in words and words == tuple(to_simplified(w) for w in words)


@pytest.mark.parametrize(
    "text, written, value, currency, context",
    [
        ("统筹设立规模1000亿元的人工智能基金群，", "1000亿元", 1e11, "CNY", "人工智能基金群"),
        (
            "对国家重大战略任务攻关最高支持1亿元；",
            "最高支持1亿元",
            1e8,
            "CNY",
            "对国家重大战略任务攻关",
        ),
        (
            "单个企业年度最高可获得3000万元额度。",
            "最高可获得3000万元",
            3e7,
            "CNY",
            "单个企业年度…额度",
        ),
        ("带动相关产业规模超过1.2万亿元。", "超过1.2万亿元", 1.2e12, "CNY", "带动相关产业规模"),
        ("这家公司完成5亿美元融资。", "5亿美元", 5e8, "USD", "这家公司完成…融资"),
        ("合肥设立百亿元人工智能产业基金 首批", "百亿元", 1e10, "CNY", "合肥设立…人工智能产业基金"),
        ("特区政府已预留30亿港元推行计划。", "30亿港元", 3e9, "HKD", "特区政府已预留…推行计划"),
        ("给予5000万至1亿元支持。", "5000万至1亿元", 1e8, "CNY", "给予…支持"),
        ("總規模達1000億元的基金群。", "1000亿元", 1e11, "CNY", "基金群"),
    ],
)
def test_amounts_with_their_value_and_context(
    text: str, written: str, value: float, currency: str, context: str
) -> None:
    (amount,) = amounts(text)
    assert (amount.text, amount.yuan, amount.currency, amount.context) == (
        written,
        pytest.approx(value),
        currency,
        context,
    )


def test_the_figures_of_one_enumeration_share_their_context() -> None:
    found = amounts("分别给予相关人才100万元、50万元、20万元资助资金。")
    assert [a.yuan for a in found] == [1e6, 5e5, 2e5]
    assert {a.context for a in found} == {"分别给予相关人才…资助资金"}


def test_words_that_only_look_like_money_are_not_amounts() -> None:
    assert amounts("推进统一元数据标准，发展元宇宙产业，投入数十亿元，两千多名员工。") == ()
