"""The gazetteer: every place the region tagger knows, its canonical name, parents and aliases.

Two files in ``data/``: ``gazetteer.tsv``, generated from packages' data by build_gazetteer.py
(China's divisions, countries, foreign cities), and ``regions.toml``, curated by hand
(macro-regions, zones, nicknames, compounds). Canonical names are TAXONOMY.md's: provinces and
cities short (广东, 深圳), county-level divisions with their suffix (海珠区), zones by their usual
name (南沙, 东湖高新区). A county-level name can belong to several places (鼓楼区 in 南京, 福州,
徐州 and 开封); the tagger picks one by the text's other places, else the best known.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import ahocorasick_rs
import opencc

from crawler.clean.structure import jieba_frequencies
from crawler.paths import package_path

DATA = package_path("classify", "data")
# An alias shared by places of several levels belongs to the highest: 吉林 is the province.
RANK = {"country": 0, "macro": 0, "province": 0, "city": 1, "district": 2}


@dataclass(frozen=True)
class Place:
    """A place: canonical name, level, GB/T 2260 code (ISO code or time zone abroad), parents."""

    name: str
    level: str  # country, macro, province, city or district (county-level divisions, zones)
    code: str | None
    parent: str | None  # a city's province, a district's city; a foreign city's country
    province: str | None  # the province it lies in (itself for a province); None abroad


@dataclass(frozen=True)
class Entry:
    """What an alias names: its places (best first; several for 北上广深) and how sure it is."""

    places: tuple[Place, ...]
    # False for names that are places only with a suffix or context: 海珠 (海珠区), 中山 (中山市).
    strong: bool
    compound: bool = False  # 北上广深 names all its places at once, not one of them


@cache
def _converters() -> tuple[opencc.OpenCC, ...]:
    return tuple(opencc.OpenCC(config) for config in ("s2t", "s2tw", "s2hk"))


def traditional_forms(name: str) -> tuple[str, ...]:
    """``name`` as Traditional Chinese writes it (濱海新區, 臺灣 and 台灣), where it differs."""
    forms = (str(converter.convert(name)) for converter in _converters())
    return tuple(dict.fromkeys(form for form in forms if form != name))


class Gazetteer:
    """Places by canonical name and by alias, with an automaton that finds aliases in text."""

    def __init__(self, tsv: str, curated: dict[str, Any]) -> None:
        self._places: dict[str, list[Place]] = {}
        self._strong: dict[str, list[Place]] = {}
        self._weak: dict[str, list[Place]] = {}
        self._traditional: dict[str, list[Place]] = {}
        self._read_tsv(tsv)
        self._read_curated(curated)
        for name in curated["needs_context"]:
            self._weak.setdefault(name, []).extend(self._strong.pop(name, []))
        self.not_places: frozenset[str] = frozenset(curated["not_places"])
        self._entries = self._index(curated["compounds"])
        self._aliases_of: dict[Place, tuple[str, ...]] = {}
        for alias, entry in self._entries.items():
            if entry.strong and not entry.compound:
                for place in entry.places:
                    self._aliases_of[place] = (*self._aliases_of.get(place, ()), alias)
        self._words = list(self.words())
        self._automaton = ahocorasick_rs.AhoCorasick(self._words)

    def _add(
        self, place: Place, strong: list[str], weak: list[str], traditional: list[str]
    ) -> None:
        self._places.setdefault(place.name, []).append(place)
        # The canonical name is an alias too, unless it is a weak one itself (城区).
        names = strong if place.name in weak else [place.name, *strong]
        self._add_names(place, names, weak, traditional)

    def _add_names(
        self, place: Place, strong: list[str], weak: list[str], traditional: list[str]
    ) -> None:
        for names, index in (
            (strong, self._strong),
            (weak, self._weak),
            (traditional, self._traditional),
        ):
            for name in dict.fromkeys(names):
                index.setdefault(name, []).append(place)

    def _read_tsv(self, tsv: str) -> None:
        for line in tsv.splitlines():
            if line.startswith(("#", "name\t")):
                continue
            name, level, code, parent, province, aliases, weak, traditional = line.split("\t")
            place = Place(name, level, code or None, parent or None, province or None)
            self._add(place, _split(aliases), _split(weak), _split(traditional))

    def _read_curated(self, curated: dict[str, Any]) -> None:
        for name, aliases in curated["macro"].items():
            self._add(
                Place(name, "macro", None, None, None), aliases, [], _traditional(name, *aliases)
            )
        for name, zone in curated["zones"].items():
            parent = self._places[zone["parent"]][0]
            absorbed = self._absorb(zone["code"]) if "code" in zone else []
            place = Place(name, "district", zone.get("code"), parent.name, parent.province)
            aliases = [*zone["aliases"], *absorbed]
            self._add(place, aliases, [], _traditional(name, *aliases))
        for country, cities in curated["foreign_cities"].items():
            for city in cities:
                self._add(Place(city, "city", None, country, None), [], [], _traditional(city))
        for table in ("nicknames", "country_aliases"):
            for name, aliases in curated[table].items():
                self._add_names(self._places[name][0], aliases, [], _traditional(*aliases))

    def _absorb(self, code: str) -> list[str]:
        """Remove the county-level division a zone stands for; its names become the zone's."""
        (division,) = [p for p in self.places() if p.code == code]
        self._places[division.name].remove(division)
        names = []
        for index in (self._strong, self._weak, self._traditional):
            for name, places in index.items():
                if division in places:
                    places.remove(division)
                    names.append(name)
        return names

    def _index(self, compounds: dict[str, list[str]]) -> dict[str, Entry]:
        """Aliases → entries: a strong alias hides a weak one, higher levels hide lower ones."""
        freq = _prominence()
        entries: dict[str, Entry] = {}
        for strong, index in ((False, self._weak), (True, self._strong)):
            for alias, places in index.items():
                if not places:
                    continue
                top = min(RANK[p.level] for p in places)
                best = sorted(
                    (p for p in places if RANK[p.level] == top),
                    key=lambda p: -freq.get(p.parent or p.name, 0),
                )
                entries[alias] = Entry(tuple(best), strong)
        for compound, members in compounds.items():
            named = tuple(self._places[member][0] for member in members)
            entries[compound] = Entry(named, True, compound=True)
        return entries

    def lookup(self, alias: str) -> Entry | None:
        """The places an alias (Simplified) names."""
        return self._entries.get(alias)

    def place(self, name: str) -> Place | None:
        """The place a canonical name or an alias (Simplified or Traditional) names, best first."""
        entry = self._entries.get(name)
        if entry and not entry.compound:
            return entry.places[0]
        if self._places.get(name):
            return self._places[name][0]
        traditional = self._traditional.get(name)
        return traditional[0] if traditional else None

    def lineage(self, place: Place) -> tuple[Place, ...]:
        """``place``'s parents, nearest first, up to its province (or its country abroad)."""
        chain = []
        while place.parent and place.level != "province":
            place = self._places[place.parent][0]
            chain.append(place)
        return tuple(chain)

    def ancestors(self, name: str) -> tuple[str, ...]:
        """The names of a place's parents up to the province: 南山区 → (深圳, 广东)."""
        place = self.place(name)
        return tuple(p.name for p in self.lineage(place)) if place else ()

    def words(self) -> Iterator[str]:
        """Every alias and not-place phrase, as the tagger's tokenizer must know them."""
        yield from self._entries
        yield from self.not_places

    def aliases_of(self, place: Place) -> tuple[str, ...]:
        """The strong aliases that name ``place``: 深圳, 深圳市, 鹏城."""
        return self._aliases_of.get(place, ())

    def find(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Every alias and not-place phrase in ``text``, overlapping ones too: (start, end, it)."""
        for index, start, end in self._automaton.find_matches_as_indexes(text, overlapping=True):
            yield start, end, self._words[index]

    def places(self) -> Iterator[Place]:
        """Every place."""
        for places in self._places.values():
            yield from places


def _traditional(*names: str) -> list[str]:
    return [form for name in names for form in traditional_forms(name)]


def _split(column: str) -> list[str]:
    return column.split("|") if column else []


def _prominence() -> dict[str, int]:
    """How often jieba's corpus names a place: 深圳's 南山区 before 鹤岗's."""
    return jieba_frequencies()


@cache
def load_gazetteer() -> Gazetteer:
    """The gazetteer from the package's data files, read once."""
    tsv = (DATA / "gazetteer.tsv").read_text(encoding="utf-8")
    curated = tomllib.loads((DATA / "regions.toml").read_text(encoding="utf-8"))
    return Gazetteer(tsv, curated)
