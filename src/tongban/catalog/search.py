"""Chinese search over the published, in-use service items (事项检索).

Index (``SearchTerm`` rows, written by ``index_item`` / ``rebuild_index``)
    The published version of an item is cut into words with jieba (``cut_for_search``, with the
    project's own dictionary ``data/userdict.txt`` loaded once into a private tokenizer), and each
    word is stored once per item with the weight of the most important field it came from:

    ==============================================  ======
    a whole alias (别名) / keyword (关键词) as one term    40 / 30
    words of the name (事项名称), the item codes         10
    words of aliases / keywords                       8 / 6
    result name (审批结果名称, e.g. 营业执照)             5
    theme and life-event labels (生育, 婚姻 ...)         4
    character bigrams of name and aliases              2   (疗器 finds 医疗器械)
    material names (申请材料)                           2
    department short name                            1.5
    ==============================================  ======

    Every call of ``index_item`` also writes one *stamp row* (empty term, weight 0) for the item,
    even when the item is not searchable (retired, cancelled); it is never matched and lets other
    processes notice the change (see "Freshness").

Query
    Normalized (NFKC, lower case). Everyday phrasings are expanded from ``data/phrases.txt``
    (开饭店 → 食品经营许可 ..., 生孩子 → 出生登记, 生育登记 ...; longest phrase first, not
    overlapping); each phrase stands for catalog wordings ("targets") in priority order. The rest
    is cut into stretches between stop words (``data/stopwords.txt``: 我, 想, 怎么, 材料 ...),
    and each stretch into words plus character bigrams (fallback for partial words). The whole
    query and each phrase are also looked up as one term (they may be an alias or a keyword).

Ranking (``_scores``)
    score = Σ index weight × query weight × idf over the query's own words, idf = ln(1 + N/df)
          + Σ over targets of 150 × priority × coverage (the idf-weighted share of the target's
            words the item holds: a target of many rare words counts no more than one of one)
          + 1000 when the query is the name, else 300 × (1 + |query|/|name|) when the name
            contains it; 200 × priority × (1 + |target|/|name|) for the best target in the name
          + 20 for a high-frequency item (高频事项). Ties by item code.
    Items scoring under 15 % of the best word score only share a common word with the query and
    are not matches (not counted in ``total``). Filters (type, department, depth, subject,
    center, theme, life event, high frequency) are applied in the same pass.

Why an in-process snapshot and not ``term IN (...) GROUP BY item`` in SQL
    At 20,000 items the index holds about 700,000 rows, and everyday words (登记, 许可, 申请表,
    身份证) sit in thousands of items: an SQL aggregate must read every posting of such a term,
    look each row up for the column the (term, weight) index lacks, join item and version for
    the filters, group and sort: tens of milliseconds per common word on SQLite, more with
    several. So each process keeps a read-only snapshot of the index (postings as compact arrays,
    8 bytes each, and a few fields per item for filtering) and scores in Python: the rare words
    of a query are read in full into a flat accumulator, the common words (held by over 5 % of
    the items) only add to the items already found, by binary search. Recent rankings are kept
    per snapshot, so the count and the page of one request score the query once.

Freshness across processes (the snapshot must never serve a stale catalog)
    Before each search the process reads two cheap values: ``MAX(id)`` of ``SearchTerm`` (an
    index lookup) and a generation counter in Django's cache. ``index_item`` rewrites all rows of
    an item (so all of them get new, higher ids, the stamp row included) and, after commit,
    increments the counter and files the item id under the new generation. A process whose
    snapshot is behind reloads only the items that changed: those with rows above its last seen
    id (this alone is exact where writers are serialized, as on SQLite, and needs no shared cache)
    plus those filed under the generations it missed (this covers PostgreSQL transactions that
    commit out of id order; with Redis the counter is shared by every node). A missing counter
    (cache cleared), a gap in the filed generations or more than ``MAX_OVERLAY`` changed items
    since the last full load make it reload everything. The ids of every returned page are checked
    against the database as a last guard (an item cancelled without re-indexing is dropped and
    reloaded), and the snapshot is rebuilt at least every ``MAX_AGE`` seconds.
"""

from __future__ import annotations

import itertools
import logging
import math
import random
import re
import threading
import time
import unicodedata
from array import array
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from heapq import nlargest
from itertools import compress
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max
from django.utils import translation

from tongban.catalog.models import ItemVersion, Material, SearchTerm, ServiceItem
from tongban.org.models import Department, ServiceCenter

logger = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
USER_DICT = DATA_DIR / "userdict.txt"
PHRASES = DATA_DIR / "phrases.txt"

# ---- weights ---------------------------------------------------------------------------------
W_NAME = 10.0
W_ALIAS_WHOLE = 40.0  # a whole alias as one term: typing an alias finds its item first
W_KEYWORD_WHOLE = 30.0
W_ALIAS = 8.0
W_KEYWORD = 6.0
W_RESULT = 5.0
W_THEME = 4.0
W_GRAM = 2.0
W_MATERIAL = 2.0
W_DEPARTMENT = 1.5

Q_TOKEN = 1.0  # query weight of a word of the query itself (and of the whole query)
Q_GRAM = 0.5  # ... of a character bigram of the query (fallback)
TARGET_SCALE = 150.0  # an item holding every word of an expansion target (× its priority)

BOOST_EXACT = 1000.0
BOOST_IN_NAME = 300.0
BOOST_TARGET_IN_NAME = 200.0
HIGH_FREQUENCY_BONUS = 20.0
RELEVANCE_FLOOR = 0.15  # share of the best word score below which an item is not a match
COMMON_SHARE = 0.05  # words held by more than this share of the items are "common" ...
COMMON_MIN_DF = 200  # ... and by more than this many items
BISECT_COST = 8  # postings read in the time of one binary search

STAMP = ""  # the term of the per-item stamp row
MAX_TERM = 50  # SearchTerm.term max_length
MAX_QUERY = 100  # characters of a query that are considered
MAX_LIMIT = 10_000  # ids of one page at most

# ---- snapshot freshness ----------------------------------------------------------------------
GENERATION_KEY = "catalog:search:generation"
CHANGE_KEY = "catalog:search:changed:%d"
CHANGE_TTL = 24 * 3600
FULL_RELOAD = 0  # filed instead of an item id: every process reloads everything
MAX_OVERLAY = 2000  # changed items kept beside the last full load before a full reload
MAX_GENERATION_GAP = 500  # missed generations read one by one before giving up (full reload)
MAX_AGE = 3600.0  # seconds: a full reload at least this often (backstop)

STOP_WORDS_FILE = DATA_DIR / "stopwords.txt"

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,}")
_WORDISH = re.compile(r"[\w\u3400-\u9fff\uf900-\ufaff]")
_SEPARATORS = re.compile(r"[\n\r,，、;；|/]+")
_SPACES = re.compile(r"\s+")


# ---- text ------------------------------------------------------------------------------------
_tokenizer_lock = threading.Lock()
_tokenizer = None


def tokenizer():
    """The project's jieba tokenizer (main dictionary + data/userdict.txt), built once."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                if USER_DICT.exists():
                    tk.load_userdict(str(USER_DICT))
                _tokenizer = tk
    return _tokenizer


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), lower case, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return _SPACES.sub(" ", text).strip()


def compact(text: str) -> str:
    """``normalize`` without spaces and punctuation: the form used for "appears in the name"."""
    return "".join(ch for ch in normalize(text) if _WORDISH.match(ch))


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """Query words that carry no meaning (data/stopwords.txt)."""
    if not STOP_WORDS_FILE.exists():
        return frozenset()
    words: set[str] = set()
    for line in STOP_WORDS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip().startswith("#"):
            words.update(line.split())
    return frozenset(words)


def _keep(token: str) -> bool:
    token = token.strip()
    if not token or len(token) > MAX_TERM or token in stop_words():
        return False
    if not _WORDISH.search(token):
        return False  # punctuation
    # single CJK characters match almost everything; bigrams cover partial words instead
    return not (len(token) == 1 and _CJK.match(token))


def tokens(text: str) -> list[str]:
    """Search words of ``text`` (jieba cut_for_search, stop words and punctuation dropped)."""
    return list(_tokens(normalize(text)))


@lru_cache(maxsize=20000)
def _tokens(text: str) -> tuple[str, ...]:
    # material names, labels and department names repeat across thousands of items
    if not text:
        return ()
    seen: dict[str, None] = {}
    for token in tokenizer().cut_for_search(text):
        token = token.strip()
        if _keep(token):
            seen.setdefault(token, None)
    return tuple(seen)


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams of every run of Chinese characters (疗器, 器械 ...)."""
    seen: dict[str, None] = {}
    for run in _CJK_RUN.findall(normalize(text)):
        for i in range(len(run) - 1):
            seen.setdefault(run[i : i + 2], None)
    return list(seen)


def content_runs(text: str) -> list[str]:
    """The stretches of ``text`` between stop words and punctuation (我想|开个|饭店 ...):
    query words and fallback bigrams are taken inside them, never across a stop word."""
    runs: list[str] = []
    current: list[str] = []
    for token in tokenizer().cut(normalize(text)):
        if token.strip() and _WORDISH.search(token) and token not in stop_words():
            current.append(token)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def _lines(text: str) -> list[str]:
    return [p.strip() for p in _SEPARATORS.split(text or "") if p.strip()]


# ---- everyday phrases ------------------------------------------------------------------------
@dataclass(frozen=True)
class Expansion:
    phrase: str  # the everyday phrase found in the query
    targets: tuple[str, ...]  # catalog wording, most relevant first


@lru_cache(maxsize=1)
def phrase_table() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(phrase, targets) pairs from data/phrases.txt, longest phrase first."""
    pairs: dict[str, list[str]] = {}
    if PHRASES.exists():
        for raw in PHRASES.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#") or "=>" not in line:
                continue
            left, right = line.split("=>", 1)
            targets = [normalize(t) for t in right.split(",") if t.strip()]
            for phrase in left.split("|"):
                phrase = normalize(phrase)
                if phrase and targets:
                    merged = pairs.setdefault(phrase, [])
                    merged.extend(t for t in targets if t not in merged)
    return tuple(sorted(((p, tuple(t)) for p, t in pairs.items()), key=lambda x: -len(x[0])))


def expand(query: str) -> tuple[list[Expansion], str]:
    """The everyday phrases found in ``query`` (longest first, non-overlapping) and the rest of
    the query with those phrases cut out."""
    rest = normalize(query)
    found: list[Expansion] = []
    for phrase, targets in phrase_table():
        if phrase in rest:
            found.append(Expansion(phrase, targets))
            rest = rest.replace(phrase, " ")
    return found, _SPACES.sub(" ", rest).strip()


def _priority(position: int) -> float:
    """Weight of the n-th target of a phrase (1, 0.85, 0.7 ... at least 0.3)."""
    return max(0.3, 1.0 - 0.15 * position)


# ---- index -----------------------------------------------------------------------------------
def _labels(codes, vocabulary_name: str) -> list[str]:
    return [label for c in codes or () if (label := _label(vocabulary_name, c))]


@lru_cache(maxsize=512)
def _label(vocabulary_name: str, code: str) -> str:
    """The Chinese label of a theme or life-event code ("" when unknown or themes.py absent)."""
    try:
        from tongban.catalog import themes
    except ImportError:  # pragma: no cover - themes.py is part of the catalog
        return ""
    vocabulary = getattr(themes, vocabulary_name, {})
    if code not in vocabulary:
        return ""
    with translation.override("zh-hans"):
        return str(vocabulary[code])


def version_terms(
    item: ServiceItem, version: ItemVersion, material_names: list[str] | None = None
) -> dict[str, float]:
    """The index terms of ``version`` of ``item`` with their weights (the highest field wins).
    ``material_names`` saves the query for the version's materials when given."""
    terms: dict[str, float] = {}

    def add(words, weight: float) -> None:
        for word in words:
            if word and len(word) <= MAX_TERM and terms.get(word, 0.0) < weight:
                terms[word] = weight

    add(tokens(version.name), W_NAME)
    add(bigrams(version.name), W_GRAM)
    add([item.code.lower(), item.base_code.lower()], W_NAME)
    for alias in _lines(version.aliases):
        add(tokens(alias), W_ALIAS)
        add(bigrams(alias), W_GRAM)
        add([compact(alias)], W_ALIAS_WHOLE)
    for keyword in _lines(version.keywords):
        add(tokens(keyword), W_KEYWORD)
        add([compact(keyword)], W_KEYWORD_WHOLE)
    add(tokens(version.result_name), W_RESULT)
    for label in _labels(version.themes, "THEMES") + _labels(version.life_events, "LIFE_EVENTS"):
        add([*tokens(label), compact(label)], W_THEME)
    if material_names is None:
        material_names = list(version.materials.values_list("name", flat=True))
    for name in material_names:
        add(tokens(name), W_MATERIAL)
    department = item.department
    add(tokens(department.short_name or department.name), W_DEPARTMENT)
    terms.pop(STAMP, None)
    return terms


def _searchable(item: ServiceItem) -> ItemVersion | None:
    version = item.published_version
    if (
        item.status != ServiceItem.Status.IN_USE
        or version is None
        or version.state != ItemVersion.State.PUBLISHED
    ):
        return None
    return version


def index_item(item: ServiceItem) -> None:
    """Re-index ``item``: its published version's terms if it is searchable (in use, with a
    published version), none otherwise; always one stamp row. Call it after every change of an
    item's published version, status, department or high-frequency flag."""
    item = ServiceItem.objects.select_related("published_version", "department").get(pk=item.pk)
    version = _searchable(item)
    terms = version_terms(item, version) if version else {}
    with transaction.atomic():
        SearchTerm.objects.filter(item=item).delete()
        rows = [(t, item.pk, w) for t, w in terms.items()]
        rows.append((STAMP, item.pk, 0.0))
        _insert(rows)
        transaction.on_commit(lambda: _announce(item.pk))


def _insert(rows: list[tuple[str, int, float]]) -> None:
    """Insert (term, item id, weight) rows with one prepared statement: the ORM's bulk_create
    builds a model instance per row, which is most of the time of a rebuild."""
    meta = SearchTerm._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(meta.get_field(f).column) for f in ("term", "item", "weight"))
    sql = f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES (%s, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def rebuild_index(*, batch_size: int = 500) -> int:
    """Rebuild the whole index in bulk; returns the number of searchable items indexed."""
    tk = tokenizer()  # noqa: F841 - load the dictionary before the transaction
    indexed = 0
    with transaction.atomic():
        SearchTerm.objects.all().delete()
        ids = list(ServiceItem.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            items = ServiceItem.objects.filter(pk__in=chunk).select_related(
                "published_version", "department"
            )
            searchable = {i.pk: v for i in items if (v := _searchable(i)) is not None}
            materials: dict[int, list[str]] = {}
            for version_id, name in Material.objects.filter(
                version_id__in=[v.pk for v in searchable.values()]
            ).values_list("version_id", "name"):
                materials.setdefault(version_id, []).append(name)
            rows: list[tuple[str, int, float]] = []
            for item in items:
                version = searchable.get(item.pk)
                if version is not None:
                    indexed += 1
                    terms = version_terms(item, version, materials.get(version.pk, []))
                    rows.extend((term, item.pk, weight) for term, weight in terms.items())
                rows.append((STAMP, item.pk, 0.0))
            _insert(rows)
        transaction.on_commit(lambda: _announce(FULL_RELOAD))
    return indexed


def _announce(item_id: int) -> None:
    """File ``item_id`` (or FULL_RELOAD) under a new generation of the shared counter."""
    try:
        generation = cache.incr(GENERATION_KEY)
    except ValueError:  # no counter yet (or evicted): processes reload everything anyway
        cache.add(GENERATION_KEY, random.randint(1, 2**40))  # noqa: S311 - not a secret
        return
    cache.set(CHANGE_KEY % generation, item_id, CHANGE_TTL)


# ---- the in-process snapshot -----------------------------------------------------------------
_serials = itertools.count(1)


class _Snapshot:
    """Postings and per-item fields of the searchable items, loaded from the database.

    A full load fills ``base`` (term → (item indexes, weights)); later changes of a few items go
    to ``overlay`` (term → [(index, weight)]) and ``changed`` (indexes whose base postings are
    stale). Per-item fields live in parallel lists indexed by a dense item index. Snapshots are
    replaced, never edited in place, so a search running in another thread is not disturbed.
    """

    __slots__ = (
        "base",
        "changed",
        "code",
        "department",
        "depth",
        "generation",
        "high_frequency",
        "index_of",
        "item_id",
        "item_type",
        "life_events",
        "loaded_at",
        "max_id",
        "name",
        "order",
        "overlay",
        "overlay_df",
        "searchable",
        "serial",
        "size",
        "sorted_cache",
        "subject",
        "themes",
    )

    def __init__(self) -> None:
        self.base: dict[str, tuple[array, array]] = {}
        self.overlay: dict[str, list[tuple[int, float]]] = {}
        self.overlay_df: dict[str, int] = {}
        self.changed: frozenset[int] = frozenset()
        self.item_id: list[int] = []
        self.code: list[str] = []
        self.name: list[str] = []
        self.item_type: list[str] = []
        self.department: list[int] = []
        self.depth: list[int] = []
        self.subject: list[str] = []
        self.high_frequency: list[bool] = []
        self.themes: list[tuple[str, ...]] = []
        self.life_events: list[tuple[str, ...]] = []
        self.searchable: list[bool] = []
        self.index_of: dict[int, int] = {}
        self.order: list[int] = []  # searchable indexes by code
        self.size = 0  # searchable items (N of the idf)
        self.max_id = 0
        self.generation: int | None = None
        self.loaded_at = 0.0
        self.serial = next(_serials)
        self.sorted_cache: dict[str, tuple[array, array]] = {}

    # -- loading
    def _set_item(self, row) -> int:
        (pk, code, item_type, dept, hf, name, depth, subject, themes_, events) = row
        idx = self.index_of.get(pk)
        values = (
            pk,
            code,
            compact(name),
            item_type,
            dept,
            depth,
            subject,
            bool(hf),
            tuple(themes_ or ()),
            tuple(events or ()),
            True,
        )
        lists = (
            self.item_id,
            self.code,
            self.name,
            self.item_type,
            self.department,
            self.depth,
            self.subject,
            self.high_frequency,
            self.themes,
            self.life_events,
            self.searchable,
        )
        if idx is None:
            idx = len(self.item_id)
            self.index_of[pk] = idx
            for target, value in zip(lists, values, strict=True):
                target.append(value)
        else:
            for target, value in zip(lists, values, strict=True):
                target[idx] = value
        return idx

    def _finish(self) -> None:
        live = [i for i, ok in enumerate(self.searchable) if ok]
        self.order = sorted(live, key=self.code.__getitem__)
        self.size = len(live)
        self.loaded_at = time.monotonic()

    @classmethod
    def load(cls, generation: int | None) -> _Snapshot:
        snap = cls()
        snap.generation = generation
        snap.max_id = SearchTerm.objects.aggregate(m=Max("id"))["m"] or 0
        for row in _item_rows(None):
            snap._set_item(row)
        postings: dict[str, tuple[array, array]] = {}
        index_of = snap.index_of
        meta = SearchTerm._meta
        qn = connection.ops.quote_name
        term_col, item_col, weight_col = (
            qn(meta.get_field(f).column) for f in ("term", "item", "weight")
        )
        sql = (
            f"SELECT {term_col}, {item_col}, {weight_col} FROM {qn(meta.db_table)} "  # noqa: S608
            f"WHERE {qn(meta.pk.column)} <= %s AND {term_col} <> %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [snap.max_id, STAMP])
            while chunk := cursor.fetchmany(20000):
                for term, item_id, weight in chunk:
                    idx = index_of.get(item_id)
                    if idx is None:
                        continue
                    entry = postings.get(term)
                    if entry is None:
                        entry = postings[term] = (array("I"), array("f"))
                    entry[0].append(idx)
                    entry[1].append(weight)
        snap.base = postings
        snap._finish()
        return snap

    def with_changes(self, item_ids: set[int], max_id: int, generation: int | None) -> _Snapshot:
        """A new snapshot with the current rows of ``item_ids`` (postings shared with self)."""
        snap = _Snapshot()
        for name in self.__slots__:
            if name != "serial":
                setattr(snap, name, getattr(self, name))
        snap.item_id, snap.code, snap.name = list(self.item_id), list(self.code), list(self.name)
        snap.item_type, snap.department = list(self.item_type), list(self.department)
        snap.depth, snap.subject = list(self.depth), list(self.subject)
        snap.high_frequency, snap.searchable = list(self.high_frequency), list(self.searchable)
        snap.themes, snap.life_events = list(self.themes), list(self.life_events)
        snap.index_of = dict(self.index_of)
        snap.generation, snap.max_id = generation, max_id
        touched: set[int] = set()
        for pk in item_ids:  # not searchable unless the query below says so
            idx = snap.index_of.get(pk)
            if idx is not None:
                snap.searchable[idx] = False
                touched.add(idx)
        for row in _item_rows(item_ids):
            touched.add(snap._set_item(row))
        overlay = {t: [p for p in ps if p[0] not in touched] for t, ps in self.overlay.items()}
        rows = (
            SearchTerm.objects.filter(item_id__in=item_ids, id__lte=max_id)
            .exclude(term=STAMP)
            .values_list("term", "item_id", "weight")
        )
        for term, item_id, weight in rows:
            idx = snap.index_of.get(item_id)
            if idx is not None and snap.searchable[idx]:
                overlay.setdefault(term, []).append((idx, weight))
        snap.overlay = {t: ps for t, ps in overlay.items() if ps}
        snap.overlay_df = {t: len(ps) for t, ps in snap.overlay.items()}
        snap.changed = self.changed | touched
        snap.loaded_at = self.loaded_at
        live = [i for i, ok in enumerate(snap.searchable) if ok]
        snap.order = sorted(live, key=snap.code.__getitem__)
        snap.size = len(live)
        return snap

    # -- reading
    def sorted_postings(self, term: str) -> tuple[array, array]:
        """The base postings of ``term`` ordered by item index (built once, for bisecting)."""
        found = self.sorted_cache.get(term)
        if found is None:
            ids, weights = self.base[term]
            order = sorted(range(len(ids)), key=ids.__getitem__)
            found = (array("I", (ids[k] for k in order)), array("f", (weights[k] for k in order)))
            self.sorted_cache[term] = found
        return found

    def df(self, term: str) -> int:
        base = self.base.get(term)
        return (len(base[0]) if base else 0) + self.overlay_df.get(term, 0)


def _item_rows(item_ids: set[int] | None):
    qs = ServiceItem.objects.filter(
        status=ServiceItem.Status.IN_USE,
        published_version__isnull=False,
        published_version__state=ItemVersion.State.PUBLISHED,
    )
    if item_ids is not None:
        qs = qs.filter(pk__in=item_ids)
    return qs.values_list(
        "pk",
        "code",
        "item_type",
        "department_id",
        "high_frequency",
        "published_version__name",
        "published_version__online_depth",
        "published_version__subject",
        "published_version__themes",
        "published_version__life_events",
    ).iterator(chunk_size=5000)


_snapshot: _Snapshot | None = None
_snapshot_lock = threading.Lock()


def _changed_since(snap: _Snapshot, generation: int) -> set[int] | None:
    """Item ids filed under the generations after the snapshot's; None: reload everything."""
    if snap.generation is None or generation < snap.generation:
        return None
    if generation == snap.generation:
        return set()
    if generation - snap.generation > MAX_GENERATION_GAP:
        return None
    keys = [CHANGE_KEY % g for g in range(snap.generation + 1, generation + 1)]
    filed = cache.get_many(keys)
    if len(filed) != len(keys) or FULL_RELOAD in filed.values():
        return None
    return set(filed.values())


def current_snapshot(*, force: bool = False) -> _Snapshot:
    """The process's snapshot, brought up to date with the database first (see module doc)."""
    global _snapshot
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, random.randint(1, 2**40))  # noqa: S311 - not a secret
        generation = cache.get(GENERATION_KEY)
    max_id = SearchTerm.objects.aggregate(m=Max("id"))["m"] or 0
    snap = _snapshot
    if (
        not force
        and snap is not None
        and snap.generation == generation
        and snap.max_id == max_id
        and time.monotonic() - snap.loaded_at < MAX_AGE
    ):
        return snap
    with _snapshot_lock:
        snap = _snapshot
        if force or snap is None or time.monotonic() - snap.loaded_at >= MAX_AGE:
            _snapshot = _Snapshot.load(generation)
            return _snapshot
        if snap.generation == generation and snap.max_id == max_id:
            return snap  # another thread caught up meanwhile
        changed = _changed_since(snap, generation) if generation is not None else None
        if changed is not None and max_id != snap.max_id:
            changed |= set(
                SearchTerm.objects.filter(id__gt=snap.max_id, id__lte=max_id)
                .values_list("item_id", flat=True)
                .distinct()
            )
        if changed is None or max_id < snap.max_id or len(snap.changed | changed) > MAX_OVERLAY:
            _snapshot = _Snapshot.load(generation)
        else:
            _snapshot = snap.with_changes(changed, max_id, generation)
        return _snapshot


def _mark_changed(item_ids: set[int]) -> None:
    """Reload ``item_ids`` in this process (they turned out stale when a page was checked)."""
    global _snapshot
    with _snapshot_lock:
        if _snapshot is not None:
            _snapshot = _snapshot.with_changes(item_ids, _snapshot.max_id, _snapshot.generation)


# ---- search ----------------------------------------------------------------------------------
@dataclass
class SearchPage:
    """A page of search results: item ids, best first, and the number of matching items."""

    ids: list[int] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class Target:
    """A catalog wording an everyday phrase stands for (data/phrases.txt)."""

    text: str  # compact form, looked for inside item names
    priority: float  # 1 for the phrase's first target, less for the next ones
    words: tuple[str, ...]  # its search words


@dataclass
class ParsedQuery:
    text: str  # compact form of the whole query
    terms: dict[str, float]  # word → query weight (words of the query and its phrases)
    targets: list[Target]  # what its everyday phrases stand for
    expansions: list[Expansion]


def parse_query(q: str) -> ParsedQuery:
    """Everyday-phrase expansion, segmentation and fallback bigrams of a query."""
    q = normalize(q)[:MAX_QUERY]
    expansions, rest = expand(q)
    terms: dict[str, float] = {}

    def add(words, weight: float) -> None:
        for word in words:
            if word and len(word) <= MAX_TERM and terms.get(word, 0.0) < weight:
                terms[word] = weight

    runs = content_runs(rest)
    words = [w for run in runs for w in tokens(run)]
    if not words and not expansions:
        # a query made only of stop words or of one character: search it as it is
        bare = compact(rest)
        words = [bare] if bare else []
    add(words, Q_TOKEN)
    add([g for run in runs for g in bigrams(run)], Q_GRAM)
    # the whole query and each phrase as one word: they may be an alias or a keyword
    add([compact(q), *(compact(e.phrase) for e in expansions)], Q_TOKEN)
    targets: dict[str, Target] = {}
    for expansion in expansions:
        for position, wording in enumerate(expansion.targets):
            target = Target(compact(wording), _priority(position), tuple(tokens(wording)))
            known = targets.get(target.text)
            if target.text and (known is None or known.priority < target.priority):
                targets[target.text] = target
    return ParsedQuery(compact(q), terms, list(targets.values()), expansions)


def _resolve_department(department) -> int | None:
    if department is None or department == "":
        return None
    if isinstance(department, Department):
        return department.pk
    if isinstance(department, int):
        return department
    found = Department.objects.filter(code=str(department)).values_list("pk", flat=True).first()
    return found if found is not None else -1


def _resolve_center(center) -> ServiceCenter | None:
    if center is None or center == "" or isinstance(center, ServiceCenter):
        return center or None
    if isinstance(center, int):
        return ServiceCenter.objects.filter(pk=center).first()
    return ServiceCenter.objects.filter(code=str(center)).first()


def _accepted_at(center: ServiceCenter, on_date: date | None) -> set[int]:
    """Ids of the items ``center`` may accept on ``on_date`` (the acceptance rule of
    tongban.catalog.acceptance, as one query through selectors.items_accepted_at)."""
    from tongban.catalog.selectors import items_accepted_at

    return set(items_accepted_at(center, on_date=on_date).values_list("pk", flat=True))


def _subject_ok(wanted: str | None):
    if not wanted:
        return None
    if wanted == "both":
        return frozenset({"both"})
    return frozenset({wanted, "both"})


@dataclass(frozen=True)
class _Filters:
    types: frozenset[str] | None
    department: int | None
    depth: int | None
    subjects: frozenset[str] | None
    theme: str | None
    life_event: str | None
    high_frequency: bool | None

    def is_empty(self) -> bool:
        return all(value is None for value in self.__dict__.values())

    def test(self, snap: _Snapshot):
        """A predicate on item indexes of ``snap``."""
        searchable, types, department = snap.searchable, self.types, self.department
        depth, subjects, theme, event = self.depth, self.subjects, self.theme, self.life_event
        hf = self.high_frequency

        def passes(i: int) -> bool:
            return (
                searchable[i]
                and (types is None or snap.item_type[i] in types)
                and (department is None or snap.department[i] == department)
                and (depth is None or snap.depth[i] == depth)
                and (subjects is None or snap.subject[i] in subjects)
                and (theme is None or theme in snap.themes[i])
                and (event is None or event in snap.life_events[i])
                and (hf is None or snap.high_frequency[i] == hf)
            )

        return passes


# Recent rankings per snapshot, so that the count and the page of one request (and the next
# pages) score a query once. Only the head of a ranking is kept.
_RECENT_SIZE = 256
_RECENT_HEAD = 200
_recent: OrderedDict[tuple, tuple[list[int], int]] = OrderedDict()
_recent_lock = threading.Lock()


def search_items(
    q: str,
    *,
    item_type=None,
    department=None,
    depth=None,
    subject=None,
    center=None,
    theme: str | None = None,
    life_event: str | None = None,
    high_frequency: bool | None = None,
    on_date: date | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """Published, in-use items matching ``q`` (best first; with an empty ``q``: all of them by
    code) and the filters, all applied in the same pass:

    ``item_type`` a code such as "01" (or a list of codes); ``department`` a Department, its id
    or its code; ``depth`` 1–4; ``subject`` "natural" (items for natural persons, "both"
    included), "legal" likewise, "both" (only items for both); ``center`` a ServiceCenter, its id
    or its code: items it may accept on ``on_date`` (today by default; see acceptance.py);
    ``theme`` / ``life_event`` codes of tongban.catalog.themes; ``high_frequency`` True/False.
    An unknown department or center gives an empty page."""
    limit = max(0, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    dept_id = _resolve_department(department)
    center_obj = _resolve_center(center)
    if (dept_id == -1) or (center not in (None, "") and center_obj is None):
        return SearchPage([], 0)
    types = None
    if item_type:
        types = frozenset([item_type] if isinstance(item_type, str) else item_type)
    filters = _Filters(
        types=types,
        department=dept_id,
        depth=int(depth) if depth not in (None, "") else None,
        subjects=_subject_ok(subject),
        theme=theme or None,
        life_event=life_event or None,
        high_frequency=high_frequency,
    )
    accepted = _accepted_at(center_obj, on_date) if center_obj is not None else None
    query = parse_query(q or "")
    for _attempt in range(2):
        snap = current_snapshot()
        ranked, total = _ranking(snap, query, filters, accepted, offset + limit)
        ids = [snap.item_id[i] for i in ranked[offset : offset + limit]]
        if not ids:
            return SearchPage([], total)
        live = set(
            ServiceItem.objects.filter(
                pk__in=ids,
                status=ServiceItem.Status.IN_USE,
                published_version__state=ItemVersion.State.PUBLISHED,
            ).values_list("pk", flat=True)
        )
        stale = set(ids) - live
        if not stale:
            break
        # changed without index_item (e.g. a bulk update): reload those items, search again
        logger.warning("search: %d items changed without re-indexing", len(stale))
        _mark_changed(stale)
    else:
        ids = [i for i in ids if i in live]
    return SearchPage(ids, total)


def _ranking(
    snap: _Snapshot,
    query: ParsedQuery,
    filters: _Filters,
    accepted: set[int] | None,
    needed: int,
) -> tuple[list[int], int]:
    """Item indexes of ``snap``, best first (at least the first ``needed``), and the total."""
    key = None
    if accepted is None:
        key = (snap.serial, query.text, tuple(sorted(query.terms.items())), filters)
        with _recent_lock:
            hit = _recent.get(key)
            if hit is not None and (needed <= len(hit[0]) or len(hit[0]) == hit[1]):
                _recent.move_to_end(key)
                return hit
    passes = None if filters.is_empty() else filters.test(snap)
    head_size = max(needed, _RECENT_HEAD)
    if not query.text:
        matches = [i for i in snap.order if passes is None or passes(i)]
        if accepted is not None:
            matches = [i for i in matches if snap.item_id[i] in accepted]
        result = (matches[:head_size], len(matches))
    else:
        ids, scores = _scores(snap, query, passes)
        if accepted is not None:
            keep = [k for k, i in enumerate(ids) if snap.item_id[i] in accepted]
            ids, scores = [ids[k] for k in keep], [scores[k] for k in keep]
        result = (_best(snap, ids, scores, head_size), len(ids))
    if key is not None:
        with _recent_lock:
            _recent[key] = result
            while len(_recent) > _RECENT_SIZE:
                _recent.popitem(last=False)
    return result


def _best(snap: _Snapshot, ids: list[int], scores: list[float], size: int) -> list[int]:
    """The ``size`` best of ``ids`` by score, ties by code: the cut-off score is found on bare
    floats, and only the items at or above it (ties included) are sorted."""
    if len(ids) > size:
        cutoff = nlargest(size, scores)[-1]
        pairs = [(-sc, snap.code[i], i) for i, sc in zip(ids, scores, strict=True) if sc >= cutoff]
    else:
        pairs = [(-sc, snap.code[i], i) for i, sc in zip(ids, scores, strict=True)]
    pairs.sort()
    return [i for _score, _code, i in pairs[:size]]


def _scores(snap: _Snapshot, query: ParsedQuery, passes) -> tuple[list[int], list[float]]:
    """Indexes and scores of every item matching ``query`` that ``passes`` the filters.

    score = Σ weight × (query weight × idf) over the query's own words
          + Σ over expansion targets of TARGET_SCALE × priority × coverage, where coverage is
            the idf-weighted share of the target's words the item holds (at most 1 per target:
            a target of many rare words counts no more than a target of one)
          + the name boosts and the high-frequency bonus of the module docstring."""
    n = max(snap.size, 1)

    def idf(term: str) -> float:
        return math.log(1.0 + n / max(snap.df(term), 1))

    own = {t: w * idf(t) for t, w in query.terms.items() if snap.df(t)}
    via_target: dict[str, float] = {}
    for target in query.targets:
        mass = sum(idf(w) for w in target.words)
        if not mass:
            continue
        for word in target.words:
            if snap.df(word):
                share = TARGET_SCALE * target.priority * idf(word) / (mass * W_NAME)
                via_target[word] = via_target.get(word, 0.0) + share

    # Words held by many items (登记, 许可, 申请表 ...) weigh little (low idf). The rarer words
    # find the candidates: every word under COMMON_SHARE of the items, and the rarest word of
    # the query and of each target, are read in full; the common ones then only add to items
    # already found (by binary search when that reads fewer postings).
    common_df = max(COMMON_MIN_DF, int(n * COMMON_SHARE))
    factors = {t: (own.get(t, 0.0), via_target.get(t, 0.0)) for t in own.keys() | via_target.keys()}
    full = {t for t in factors if snap.df(t) <= common_df}
    groups = [list(own)] + [[w for w in tg.words if w in factors] for tg in query.targets]
    for group in groups:
        if group and not full.intersection(group):
            full.add(min(group, key=snap.df))
    common = sorted(set(factors) - full, key=snap.df)

    # one flat accumulator over all item indexes: list indexing is the cheapest Python can do
    acc = [0.0] * len(snap.item_id)
    changed = snap.changed
    for term in full:
        f_own, f_target = factors[term]
        base = snap.base.get(term)
        if base is None:
            continue
        if f_target:
            for i, w in zip(*base, strict=True):
                acc[i] += w * f_own + (w if w < W_NAME else W_NAME) * f_target
        else:
            for i, w in zip(*base, strict=True):
                acc[i] += w * f_own
    if changed:  # re-indexed items: their base postings are stale, the overlay holds them
        for i in changed:
            acc[i] = 0.0
        for term in full:
            f_own, f_target = factors[term]
            for i, w in snap.overlay.get(term, ()):
                acc[i] += w * f_own + (w if w < W_NAME else W_NAME) * f_target
    if common:
        found = list(compress(range(len(acc)), acc))
        for term in common:
            f_own, f_target = factors[term]
            base = snap.base.get(term)
            if base is not None and len(found) * BISECT_COST < len(base[0]):
                ids, weights = snap.sorted_postings(term)
                size = len(ids)
                for i in found:
                    k = bisect_left(ids, i)
                    if k < size and ids[k] == i and i not in changed:
                        w = weights[k]
                        acc[i] += w * f_own + (w if w < W_NAME else W_NAME) * f_target
            elif base is not None:
                for i, w in zip(*base, strict=True):
                    if acc[i] and i not in changed:
                        acc[i] += w * f_own + (w if w < W_NAME else W_NAME) * f_target
            for i, w in snap.overlay.get(term, ()):
                if acc[i]:
                    acc[i] += w * f_own + (w if w < W_NAME else W_NAME) * f_target
    text, targets = query.text, query.targets
    if len(text) == 1:  # one character: the names that contain it
        for i in snap.order:
            if not acc[i] and text in snap.name[i]:
                acc[i] = 1.0

    # the relevance floor: items scoring less than RELEVANCE_FLOOR of the best (among those the
    # filters let through) only share a common word with the query and are not matches
    searchable, names, high_frequency = snap.searchable, snap.name, snap.high_frequency
    if passes is None:
        top = max(acc, default=0.0)
        floor = max(top * RELEVANCE_FLOOR, 1e-9)
        candidates = [i for i in compress(range(len(acc)), map(floor.__le__, acc)) if searchable[i]]
    else:
        candidates = [i for i in compress(range(len(acc)), acc) if searchable[i] and passes(i)]
        floor = max((acc[i] for i in candidates), default=0.0) * RELEVANCE_FLOOR
        candidates = [i for i in candidates if acc[i] >= floor]
    ids: list[int] = []
    scores: list[float] = []
    check_text = len(text) >= 2
    for i in candidates:
        score = acc[i]
        name = names[i]
        if check_text and text in name:
            score += BOOST_EXACT if text == name else BOOST_IN_NAME * (1 + len(text) / len(name))
        best = 0.0
        for target in targets:
            if target.text in name:
                boost = BOOST_TARGET_IN_NAME * target.priority * (1 + len(target.text) / len(name))
                if boost > best:
                    best = boost
        score += best
        if high_frequency[i]:
            score += HIGH_FREQUENCY_BONUS
        ids.append(i)
        scores.append(score)
    return ids, scores


def explain(q: str) -> dict[str, Any]:
    """How a query is understood (for the workbench and for tuning phrases.txt)."""
    parsed = parse_query(q)
    return {
        "query": parsed.text,
        "phrases": [{"phrase": e.phrase, "targets": list(e.targets)} for e in parsed.expansions],
        "terms": parsed.terms,
        "targets": [{"text": t.text, "priority": t.priority} for t in parsed.targets],
    }
