"""A scenario suite that looks like OSINT traffic, to choose and check detection defaults.

Each scenario is three weeks of a feed (a month for ``quiet``) built the way analysts see
one:

- about 270 items a day of background news with a news rhythm (the European afternoon
  busiest, nights never silent, weekends lighter) and near-miss stories that name Belarus,
  the border or the Union State without being a watched signal (``streams.sources.samplefeed``);
- the five watched signals at their usual trickle, under one report a day each;
- one burst of one signal and region, at a seed-chosen time after two weeks of history,
  of distinct reports (each worded afresh, unlike the others to near-duplicate detection,
  from many outlets, and recognised by the bundled watchlist as the signal), rising
  quickly and fading:

  | shape | reports | over |
  |---|---|---|
  | ``sharp`` | 25 | 4 h |
  | ``medium`` | 12 | 3 h |
  | ``slow`` | 20 | 24 h |
  | ``night`` | 9 | 3 h, starting between 00:00 and 03:00 UTC |
  | ``multilingual`` | 12 | 4 h, in Russian, Belarusian and Ukrainian |

- two syndication storms: one story of a watched signal carried by 25 outlets within
  three hours, with the edits outlets make (a dateline, a title suffix, a footer): one
  story, so it must not alert;
- delivery as outlets are collected: each outlet is, for the whole scenario, near real
  time (60 %: 0-5 minutes), an hourly poller (30 %: at its own minute past each hour) or
  one to four hours late (10 %), plus the sample feed's own few re-deliveries.

Everything comes from ``random.Random`` seeded by shape and seed.
"""

from __future__ import annotations

import functools
import random
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from streams.fingerprint import fingerprint, similarity
from streams.models import Alert, RawItem
from streams.signals.matcher import Matcher
from streams.signals.text import slug
from streams.signals.watchlist import load_watchlist
from streams.sources.samplefeed import PUBLISHERS, SIGNAL_IDS, FeedSpec, generate, signal_reports

__all__ = ["SHAPES", "Burst", "Scenario", "SuiteCard", "scenario", "score"]

H = 3600.0
# Below the near-duplicate threshold (0.6) with a margin: burst reports are distinct.
_DISTINCT = 0.5
START = datetime(2026, 3, 2, tzinfo=UTC)
REGIONS = ("Eastern Europe", "Baltics")


@dataclass(frozen=True)
class Shape:
    reports: int
    hours: float
    night: bool = False
    multilingual: bool = False


SHAPES: dict[str, Shape] = {
    "sharp": Shape(25, 4),
    "medium": Shape(12, 3),
    "slow": Shape(20, 24),
    "night": Shape(9, 3, night=True),
    "multilingual": Shape(12, 4, multilingual=True),
}
KINDS = (*SHAPES, "quiet")


@dataclass(frozen=True)
class Burst:
    key: str
    first: float
    last: float


@dataclass(frozen=True)
class Scenario:
    kind: str
    seed: int
    items: list[dict[str, object]]
    """Raw items in delivery order."""
    arrivals: list[float]
    """When each item was delivered (Unix seconds), in the same order."""
    burst: Burst | None
    storms: list[Burst]
    days: float


def scenario(kind: str, seed: int) -> Scenario:
    rng = random.Random(f"osint|{kind}|{seed}")
    days = 30 if kind == "quiet" else 21
    background = generate(
        FeedSpec(
            seed=seed,
            start=START,
            days=days,
            background_per_day=270,
            genuine_every_days=1.5,
            surge=None,
        )
    )
    items = list(background)
    burst = None
    if kind in SHAPES:
        burst_items, burst = _burst(rng, seed, SHAPES[kind])
        items += burst_items
    storms = []
    for n in range(2):
        storm_items, storm = _storm(rng, seed, n, days)
        items += storm_items
        storms.append(storm)
    arrivals, ordered = _collect(rng, items)
    return Scenario(kind, seed, ordered, arrivals, burst, storms, float(days))


def _burst(rng: random.Random, seed: int, shape: Shape) -> tuple[list[dict[str, object]], Burst]:
    signal = rng.choice(SIGNAL_IDS[:1] if shape.multilingual else SIGNAL_IDS)
    region = rng.choice(REGIONS)
    day = START + timedelta(days=14 + rng.randrange(5))
    hour = rng.uniform(0, 3) if shape.night else rng.uniform(6, 18 - min(shape.hours, 10))
    begin = (day + timedelta(hours=hour)).timestamp()
    # Rising quickly and fading: most reports early in the burst, a tail after.
    times = sorted(
        begin + rng.triangular(0, shape.hours * H, shape.hours * H / 4)
        for _ in range(shape.reports)
    )
    outlets = rng.sample(PUBLISHERS, len(PUBLISHERS))
    key = f"{signal}|{slug(region)}"
    # Four drafts a report, and only those unlike every report kept: distinct reports,
    # never copies of one another (near-duplicate detection would rightly merge those).
    drafts_at = [datetime.fromtimestamp(t, UTC) for t in times for _ in range(4)]
    if shape.multilingual:
        drafts = _native_reports(rng, seed, region, drafts_at, outlets)
    else:
        drafts = signal_reports(seed + 50_000, signal, region, drafts_at, outlets)
    items: list[dict[str, object]] = []
    prints: list[str] = []
    for draft in drafts:
        mark = fingerprint(str(draft["title"]), str(draft["body"]))
        if mark is None:  # too short to compare: not a report worth a burst
            continue
        if key not in {m.key for m in _matcher().match(RawItem.model_validate(draft))}:
            # Matching has its own measure (bench/matching.py); a burst here is of reports
            # the bundled watchlist recognises, so its size is what detection sees.
            continue
        if all(similarity(mark, other) < _DISTINCT for other in prints):
            items.append(draft)
            prints.append(mark)
        if len(items) == shape.reports:
            break
    for item, at, (name, domain) in zip(items, times, outlets, strict=False):
        item.update(
            id=f"{item['id']}-burst",
            published_at=datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            publisher=name,
            url=f"https://{domain}/burst-{seed}-{item['id']}",
        )
    return items, Burst(key, times[0], times[len(items) - 1])


def _storm(
    rng: random.Random, seed: int, n: int, days: int
) -> tuple[list[dict[str, object]], Burst]:
    signal = rng.choice(SIGNAL_IDS)
    region = rng.choice(REGIONS)
    at = START + timedelta(days=rng.uniform(3, days - 2))
    [story] = signal_reports(seed + 70_000 + n, signal, region, [at])
    outlets = rng.sample(PUBLISHERS, 25)
    copies = []
    last = at.timestamp()
    for i, (name, domain) in enumerate(outlets):
        published = at + timedelta(seconds=rng.uniform(0, 3 * H)) if i else at
        last = max(last, published.timestamp())
        city = rng.choice(["VILNIUS", "WARSAW", "RIGA", "MINSK", "BRUSSELS"])
        copy = {
            **story,
            "id": f"{story['id']}-storm{n}-{i}",
            "title": f"{story['title']} | {name}" if rng.random() < 0.6 else story["title"],
            "body": f"{city} ({name}) — {story['body']}"
            + (f" Read more at {domain}." if rng.random() < 0.5 else ""),
            "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "publisher": name,
            "url": f"https://{domain}/storm-{seed}-{n}-{i}",
        }
        copies.append(copy)
    return copies, Burst(f"{signal}|{slug(region)}", at.timestamp(), last)


@functools.cache
def _matcher() -> Matcher:
    return Matcher(load_watchlist())


def _collect(
    rng: random.Random, items: Iterable[dict[str, object]]
) -> tuple[list[float], list[dict[str, object]]]:
    """Delivery times, each outlet collected its own way."""
    ways: dict[str, tuple[str, float]] = {}

    def delay(outlet: str, published: float) -> float:
        if outlet not in ways:
            roll = rng.random()
            way = "now" if roll < 0.6 else "hourly" if roll < 0.9 else "late"
            ways[outlet] = (way, rng.uniform(0, H))
        way, minute = ways[outlet]
        if way == "now":
            return rng.uniform(0, 300)
        if way == "hourly":  # the poller's next run at its minute past the hour
            return (minute - published % H) % H
        return rng.uniform(H, 4 * H)

    timed = []
    for n, item in enumerate(items):
        published = datetime.fromisoformat(str(item["published_at"])).timestamp()
        timed.append((published + delay(str(item.get("publisher")), published), n, item))
    timed.sort(key=lambda t: t[:2])
    return [t for t, _, _ in timed], [item for _, _, item in timed]


# Reports of unusual flows of Belarusian men to the EU in Russian, Belarusian and
# Ukrainian, for the multilingual burst: a title and sentences, with places and numbers.
_NATIVE: dict[str, tuple[list[str], list[str], list[tuple[str, str]]]] = {
    "ru": (
        [
            "Белорусские мужчины призывного возраста массово пересекают границу с {ins}",
            "Поток белорусских мужчин в {acc} растёт: очереди на пункте {cp}",
            "Белорусские призывники бегут в {acc}, сообщают пограничники",
            "{n} белорусских мужчин пересекли границу с {ins} за {d}",
        ],
        [
            "По данным пограничной службы, за {d} границу с {ins} пересекли {n} граждан "
            "Беларуси, в основном мужчины.",
            "На пункте пропуска {cp} выстроилась очередь длиной {k} километров.",
            "Родственники рассказывают, что молодые люди уезжают, опасаясь повесток.",
            "Правозащитники фиксируют рост обращений за убежищем со стороны белорусских парней.",
            "Власти {gen} пока не комментируют происходящее на границе.",
            "Очевидцы говорят о сотнях автомобилей с белорусскими номерами у пункта {cp}.",
            "Часть мужчин, по их словам, покидает страну без обратного билета.",
            "Пограничники усилили проверки документов на участке у {cp}.",
        ],
        [("Польшей", "Польшу"), ("Литвой", "Литву"), ("Латвией", "Латвию")],
    ),
    "be": (
        [
            "Беларускія мужчыны прызыўнога ўзросту масава перасякаюць мяжу з {ins}",
            "Беларускія хлопцы ўцякаюць у {acc}: чэргі на пункце {cp}",
            "{n} беларускіх мужчын перасеклі мяжу з {ins} за {d}",
        ],
        [
            "Паводле памежнікаў, за {d} мяжу перасеклі {n} грамадзян Беларусі, пераважна мужчыны.",
            "На пункце пропуску {cp} чарга расцягнулася на {k} кіламетраў.",
            "Сваякі кажуць, што маладыя людзі выязджаюць, баючыся позваў.",
            "Праваабаронцы бачаць рост зваротаў па прытулак ад беларускіх хлопцаў.",
            "Улады {gen} пакуль не каментуюць сітуацыю на мяжы.",
            "Відавочцы распавядаюць пра сотні машын з беларускімі нумарамі ля {cp}.",
        ],
        [("Польшчай", "Польшчу"), ("Літвой", "Літву"), ("Латвіяй", "Латвію")],
    ),
    "uk": (
        [
            "Білоруські чоловіки призовного віку масово перетинають кордон з {ins}",
            "Білоруські призовники тікають до {acc}: черги на пункті {cp}",
            "{n} білоруських чоловіків перетнули кордон з {ins} за {d}",
        ],
        [
            "За даними прикордонників, за {d} кордон перетнули {n} громадян Білорусі, "
            "переважно чоловіки.",
            "На пункті пропуску {cp} утворилася черга завдовжки {k} кілометрів.",
            "Родичі розповідають, що молоді хлопці виїжджають, боячись повісток.",
            "Правозахисники фіксують зростання звернень по притулок від білоруських чоловіків.",
            "Влада {gen} поки не коментує ситуацію на кордоні.",
            "Очевидці кажуть про сотні автомобілів з білоруськими номерами біля {cp}.",
        ],
        [("Польщею", "Польщі"), ("Литвою", "Литви"), ("Латвією", "Латвії")],
    ),
}
_CHECKPOINTS = ["Тересполь", "Кузница", "Мядининкай", "Шальчининкай", "Силене", "Брест"]
_PERIODS = {"ru": ["сутки", "выходные", "два дня", "неделю"],
            "be": ["суткі", "выхадныя", "два дні", "тыдзень"],
            "uk": ["добу", "вихідні", "два дні", "тиждень"]}  # fmt: skip
_GENITIVE = {"ru": "Варшавы", "be": "Варшавы", "uk": "Варшави"}


def _native_reports(
    rng: random.Random,
    seed: int,
    region: str,
    times: Sequence[datetime],
    outlets: Sequence[tuple[str, str]],
) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for i, at in enumerate(times):
        lang = ("ru", "be", "uk")[i % 3]
        titles, sentences, countries = _NATIVE[lang]
        ins, acc = rng.choice(countries)
        fill = {
            "ins": ins,
            "acc": acc,
            "cp": rng.choice(_CHECKPOINTS),
            "n": str(rng.randrange(40, 900)),
            "k": str(rng.randrange(2, 15)),
            "d": rng.choice(_PERIODS[lang]),
            "gen": _GENITIVE[lang],
        }
        body = " ".join(s.format(**fill) for s in rng.sample(sentences, rng.randint(3, 4)))
        name, domain = outlets[i % len(outlets)]
        items.append(
            {
                "id": f"wf-{seed}-{lang}-{i:04d}",
                "title": rng.choice(titles).format(**fill),
                "body": body,
                "published_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": region,
                "category": "security",
                "importance": rng.randint(5, 8),
                "url": f"https://{domain}/{lang}/{seed}-{i}",
                "publisher": name,
                "language": lang,
            }
        )
    return items


@dataclass
class SuiteCard:
    """What one configuration did on a set of scenarios."""

    found: dict[str, int] = field(default_factory=dict)
    bursts: dict[str, int] = field(default_factory=dict)
    delays: dict[str, list[float]] = field(default_factory=dict)
    """Hours from a burst's first report to the event time its first alert went out."""
    false_alerts: int = 0
    storms_alerted: int = 0
    storms: int = 0
    quiet_days: float = 0.0
    alerts_per_burst: list[int] = field(default_factory=list)

    @property
    def false_per_30_days(self) -> float:
        return 30 * self.false_alerts / self.quiet_days if self.quiet_days else 0.0

    def recall(self, kind: str | None = None) -> float:
        kinds = [kind] if kind else list(self.bursts)
        total = sum(self.bursts.get(k, 0) for k in kinds)
        return sum(self.found.get(k, 0) for k in kinds) / total if total else 0.0

    def add(self, other: SuiteCard) -> None:
        for kind, n in other.bursts.items():
            self.bursts[kind] = self.bursts.get(kind, 0) + n
            self.found[kind] = self.found.get(kind, 0) + other.found.get(kind, 0)
            self.delays.setdefault(kind, []).extend(other.delays.get(kind, []))
        self.false_alerts += other.false_alerts
        self.storms_alerted += other.storms_alerted
        self.storms += other.storms
        self.quiet_days += other.quiet_days
        self.alerts_per_burst += other.alerts_per_burst

    def median_delay(self, kind: str) -> float | None:
        delays = self.delays.get(kind)
        return statistics.median(delays) if delays else None


# An alert within this long after a burst's last report still belongs to it.
_TAIL = 24 * H


def score(case: Scenario, alerts: Sequence[Alert], grace: float = 900.0) -> SuiteCard:
    """Bursts found, their delay, storms alerted and false alerts, counted per burst
    (a burst's updates are not judged on their own)."""
    card = SuiteCard(storms=len(case.storms))
    opened = [a for a in alerts if a.update == "opened"]
    true_bursts: set[str] = set()
    burst = case.burst
    if burst is not None:
        card.bursts[case.kind] = 1
        mine = [
            a
            for a in opened
            if a.key == burst.key
            and a.window_end.timestamp() > burst.first
            and a.window_start.timestamp() <= burst.last + _TAIL
        ]
        if mine:
            sent = min(_sent(a, grace) for a in mine)
            card.found[case.kind] = 1
            card.delays[case.kind] = [max(0.0, sent - burst.first) / H]
            true_bursts = {a.burst_id for a in mine}
            card.alerts_per_burst.append(sum(1 for a in alerts if a.burst_id in true_bursts))
    for storm in case.storms:
        if any(
            a.key == storm.key
            and a.burst_id not in true_bursts
            and a.window_end.timestamp() > storm.first
            and a.window_start.timestamp() <= storm.last + _TAIL
            for a in opened
        ):
            card.storms_alerted += 1
    card.false_alerts = sum(1 for a in opened if a.burst_id not in true_bursts)
    span = 0.0 if burst is None else (burst.last - burst.first + _TAIL) / 86400
    card.quiet_days = case.days - span
    return card


def _sent(alert: Alert, grace: float) -> float:
    """The event time an alert went out at."""
    if alert.decided_at is not None:
        return alert.decided_at.timestamp()
    return alert.window_end.timestamp() + grace + alert.late_by
