"""A deterministic, realistic OSINT feed of a few weeks for the demo and integration tests.

Background news on many topics (with hard near-misses that name Belarus, the Union State
or the EU border without being a watched signal), rare genuine reports of each of the five
signals, and one surge of one signal from many outlets. Delivery looks like a real feed:
mostly in ``published_at`` order, a few items a few minutes late, a few delivered twice.
Everything comes from ``random.Random(seed)``: the same spec always gives the same feed.
"""

from __future__ import annotations

import copy
import random
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import orjson

__all__ = [
    "DEFAULT_SURGE",
    "SIGNAL_IDS",
    "FeedSpec",
    "LabeledItem",
    "Surge",
    "generate",
    "generate_labeled",
    "signal_reports",
    "write_jsonl",
]

SIGNAL_IDS = (
    "belarus-men-crossing-eu",
    "union-state-conscription-harmonization",
    "union-state-joint-units",
    "belarus-service-law-change",
    "belarusians-in-russian-formations",
)
REGIONS = ("Eastern Europe", "Baltics", "Western Europe", "Middle East",
           "East Asia", "Africa", "Americas", "Central Asia")  # fmt: skip
_SIGNAL_REGIONS = ("Eastern Europe", "Baltics")
_LATE_SHARE = 0.05  # share of items delivered a few minutes after later ones
_LATE_SECONDS = (60.0, 480.0)
_REDELIVERY_DELAY_SECONDS = (120.0, 3600.0)

Kind = Literal["background", "near-miss", "genuine", "surge"]


@dataclass(frozen=True)
class Surge:
    signal_id: str
    region: str
    start: datetime
    end: datetime
    reports: int


_DEFAULT_START = datetime(2026, 5, 4, tzinfo=UTC)
# Day 21 counted from 0, so three full weeks of baseline precede it: 2026-05-25 06:00-14:00.
DEFAULT_SURGE = Surge(
    signal_id="belarus-men-crossing-eu",
    region="Eastern Europe",
    start=_DEFAULT_START + timedelta(days=21, hours=6),
    end=_DEFAULT_START + timedelta(days=21, hours=14),
    reports=60,
)


@dataclass(frozen=True)
class FeedSpec:
    seed: int = 7
    start: datetime = _DEFAULT_START
    days: int = 28
    background_per_day: int = 150
    genuine_every_days: float = 4.0  # mean gap between rare genuine reports of each signal
    surge: Surge | None = DEFAULT_SURGE  # absolute times: pass another with another start
    redelivery_rate: float = 0.01  # share of items delivered a second time, unchanged

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("FeedSpec.start must be timezone-aware")
        if self.days < 1 or self.background_per_day < 0 or self.genuine_every_days < 0:
            raise ValueError("FeedSpec needs days >= 1 and non-negative rates")
        if not 0.0 <= self.redelivery_rate <= 1.0:
            raise ValueError("FeedSpec.redelivery_rate must be within [0, 1]")
        s = self.surge
        if s is not None and (s.signal_id not in SIGNAL_IDS or s.end <= s.start or s.reports < 0):
            raise ValueError(f"invalid surge: {s}")


@dataclass(frozen=True)
class LabeledItem:
    """A feed item with the ground truth a benchmark scores detection against."""

    item: dict[str, object]
    kind: Kind
    signal_id: str | None = None  # the signal a genuine or surge item reports
    redelivery: bool = False


@dataclass(frozen=True)
class _Topic:
    """Templates of one kind of story; a signal's ``leads`` each carry every rule group."""

    category: str
    importance: tuple[int, int]
    titles: Sequence[str]
    sentences: Sequence[str]
    decks: Sequence[str] = ()
    leads: Sequence[str] = ()
    regions: Sequence[str] = REGIONS


# fmt: off
# Fictional outlets on reserved .example domains: realistic spread, no real brand quoted.
PUBLISHERS = [
    (name, name.lower().replace(" ", "") + ".example")
    for name in (
        "Baltic Ledger", "Vistula Wire", "Riga Morning Post", "Neman Observer",
        "Kaunas Daily", "Tallinn Tribune", "Eastern Flank Monitor", "Border Desk",
        "Continental Review", "Harbour Street Journal", "Meridian Dispatch", "Atlas Report",
        "Daybreak Wire", "Northern Lights Gazette", "Danube Courier", "Steppe Times",
        "Caspian Herald", "Levant Monitor", "Gulf Ledger", "Sahel Observer",
        "Nile Street Post", "Cape Wire", "Andes Chronicle", "Pampas Daily",
        "Great Lakes Courier", "Pacific Rim Review", "Yellow Sea Bulletin", "Han River Times",
        "Mekong Dispatch", "Himalaya Post", "Silk Road Monitor", "Alpine Ledger",
        "Rhine Courier", "Iberian Wire", "Channel Observer", "Nordic Signal",
        "Carpathian Review", "Black Sea Bulletin", "Open Source Desk", "Frontier Brief",
    )
]
_SOURCES = ["OSINT", "wire services", "official statement", "local media", "social media",
            "press release", "government data", "eyewitnesses"]

# Country and city drawn together so a story never puts Riga in Hungary.
_PLACES: dict[str, list[tuple[str, str]]] = {
    "Eastern Europe": [("Poland", "Warsaw"), ("Ukraine", "Kyiv"), ("Moldova", "Chisinau"),
                       ("Romania", "Bucharest"), ("Slovakia", "Bratislava"),
                       ("Hungary", "Budapest")],
    "Baltics": [("Lithuania", "Vilnius"), ("Latvia", "Riga"), ("Estonia", "Tallinn")],
    "Western Europe": [("France", "Paris"), ("Germany", "Berlin"), ("Spain", "Madrid"),
                       ("the Netherlands", "Rotterdam"), ("Italy", "Milan")],
    "Middle East": [("Jordan", "Amman"), ("Turkey", "Ankara"), ("Oman", "Muscat"),
                    ("Iraq", "Basra")],
    "East Asia": [("Japan", "Osaka"), ("South Korea", "Busan"), ("Taiwan", "Taipei"),
                  ("Mongolia", "Ulaanbaatar")],
    "Africa": [("Kenya", "Nairobi"), ("Nigeria", "Lagos"), ("Senegal", "Dakar"),
               ("Ethiopia", "Addis Ababa"), ("Ghana", "Accra")],
    "Americas": [("Brazil", "Sao Paulo"), ("Canada", "Toronto"), ("Chile", "Santiago"),
                 ("Mexico", "Monterrey"), ("Colombia", "Bogota")],
    "Central Asia": [("Kazakhstan", "Almaty"), ("Uzbekistan", "Tashkent"),
                     ("Kyrgyzstan", "Bishkek"), ("Tajikistan", "Dushanbe")],
}
# An EU neighbour, its adjective, a crossing on its border with Belarus and a nearby town.
_ROUTES = [
    ("Poland", "Polish", "Terespol", "Biala Podlaska"),
    ("Poland", "Polish", "Kukuryki", "Biala Podlaska"),
    ("Poland", "Polish", "Bobrowniki", "Bialystok"),
    ("Lithuania", "Lithuanian", "Medininkai", "Vilnius"),
    ("Lithuania", "Lithuanian", "Salcininkai", "Vilnius"),
    ("Lithuania", "Lithuanian", "Lavoriskes", "Vilnius"),
    ("Latvia", "Latvian", "Paternieki", "Daugavpils"),
    ("Latvia", "Latvian", "Silene", "Daugavpils"),
]
# fmt: on
_ROUTE_KEYS = ("eu_neighbour", "eu_adj", "crossing", "eu_town")


def _numbers(lo: int, hi: int, step: int = 1) -> list[str]:
    return [str(n) for n in range(lo, hi + 1, step)]


# fmt: off
_VOCAB: dict[str, Sequence[str]] = {
    "weekday": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "month": ["June", "July", "September", "October", "the autumn"],
    "by_city": ["Brest", "Grodno", "Vitebsk", "Gomel", "Mogilev", "Lida", "Pinsk", "Baranovichi"],
    "front_town": ["Pokrovsk", "Kupiansk", "Zaporizhzhia", "Lyman", "Kostiantynivka", "Kherson"],
    "range": ["Obuz-Lesnovsky", "Borisovsky", "Gozhsky", "Brestsky"],
    "company": ["Norvane", "Kestrel Systems", "Helix Grid", "Orbis Freight", "Tamsin Foods",
                "Quarry Point Mining", "Lumen Chips", "Arcadia Motors"],
    "product": ["battery cells", "solar panels", "fertiliser", "steel coil", "microchips",
                "wheat", "coffee", "copper"],
    "weather": ["flash floods", "a heatwave", "wildfires", "a tropical storm", "hailstorms",
                "a drought"],
    "sport": ["football", "basketball", "volleyball", "chess", "rugby", "cycling"],
    "n": _numbers(40, 640, 7), "small": _numbers(2, 14), "pct": _numbers(3, 48),
    "hours": _numbers(4, 20), "days": _numbers(3, 14), "km": _numbers(2, 19),
    "rate": _numbers(12, 95), "months": _numbers(3, 12), "price": _numbers(120, 141),
    "bp": ["25", "50", "75"], "year": ["2027", "2028", "2030"],
}
# fmt: on


class _Fill(dict[str, str]):
    """Placeholder values of one item, drawn on first use so title and body agree."""

    def __init__(self, rng: random.Random, region: str) -> None:
        super().__init__()
        self.rng, self.region = rng, region
        self.pinned: set[str] = set()

    def pin(self) -> None:
        """Keep the values the accepted text so far has used."""
        self.pinned = set(self)

    def forget(self) -> None:
        """Drop values a rejected text drew, so a retry can draw others."""
        for key in set(self) - self.pinned:
            del self[key]

    def __missing__(self, key: str) -> str:
        if key in ("country", "city"):
            self.update(
                zip(("country", "city"), self.rng.choice(_PLACES[self.region]), strict=True)
            )
        elif key in _ROUTE_KEYS:
            self.update(zip(_ROUTE_KEYS, self.rng.choice(_ROUTES), strict=True))
        elif key == "publisher":  # another outlet quoted in the text
            self[key] = self.rng.choice(PUBLISHERS)[0]
        else:
            self[key] = self.rng.choice(_VOCAB[key])
        return self[key]


# fmt: off
_BACKGROUND = [
    _Topic("economy", (2, 6),
           ["{country} central bank holds rates as inflation cools to {small} percent",
            "{country} raises interest rates by {bp} basis points"],
           ["Policymakers in {city} cited slowing price growth and a stronger currency.",
            "Economists had expected the decision after {months} months of easing inflation.",
            "The bank said it would watch food and energy prices closely into {month}.",
            "Mortgage lenders said demand for new loans had fallen {pct} percent this year.",
            "The governor told reporters on {weekday} that further moves depended on wages."],
           ["The decision keeps borrowing costs among the highest in the region."]),
    _Topic("energy", (3, 6),
           ["{country} opens new LNG terminal near {city}",
            "Oil prices slip as {country} output rises"],
           ["The terminal can handle about {n} cargoes a year, the operator said.",
            "Officials in {city} said the project cut reliance on a single pipeline supplier.",
            "Brent crude fell {small} percent in early trading on {weekday}.",
            "Traders pointed to higher inventories and weaker demand from refiners.",
            "Grid operators expect the new capacity to lower winter prices."],
           ["Energy security remains a central theme of government policy."]),
    _Topic("politics", (3, 7),
           ["{country} votes in tight regional elections",
            "Coalition talks stall in {country} after snap vote"],
           ["Turnout reached {pct} percent by mid-afternoon, the electoral commission said.",
            "Polls in {city} suggested no party would win an outright majority.",
            "Opposition leaders accused the government of misusing state media.",
            "Final results are expected by {weekday}, officials said.",
            "Observers reported long queues at polling stations in the capital."]),
    _Topic("environment", (4, 8),
           ["{weather} hits {country}, thousands evacuated",
            "Emergency declared in {country} after {weather}"],
           ["Rescue teams evacuated about {n} residents from low-lying districts.",
            "Authorities in {city} closed schools and suspended rail services.",
            "Forecasters expect conditions to ease within {days} days.",
            "Farm groups warned that crops across {pct} percent of arable land were at risk.",
            "Insurers said early damage estimates ran into the hundreds of millions."],
           ["Scientists link the growing frequency of such events to a warming climate."]),
    _Topic("technology", (2, 6),
           ["{company} to build {product} plant in {country}",
            "{country} tightens rules on artificial intelligence in hiring"],
           ["The investment is expected to create about {n} jobs near {city}.",
            "Regulators said firms would have {months} months to comply.",
            "Industry groups welcomed the clarity but warned about compliance costs.",
            "Construction is due to start in {month}, the company said.",
            "Analysts at {publisher} said the move reflects a push to shorten supply chains."]),
    _Topic("sports", (1, 4),
           ["{country} and neighbours play {sport} friendly to ease diplomatic chill",
            "{city} to host international {sport} tournament"],
           ["Organisers said {n} visiting fans had registered for tickets.",
            "Diplomats described the event as a small gesture after a tense year.",
            "The tournament opens on {weekday} with a ceremony in the city centre.",
            "Local officials expect the event to bring a boost to hotels and restaurants."]),
    _Topic("economy", (2, 5),
           ["Port congestion in {city} delays {product} shipments",
            "{country} exports of {product} rise {pct} percent"],
           ["Shipping agents said vessels were waiting up to {days} days for a berth.",
            "Customs data showed the strongest month for exports since {year} forecasts.",
            "Freight rates on the route have climbed {pct} percent since spring.",
            "Exporters in {city} blamed a shortage of trucks and container space."]),
    _Topic("security", (4, 7),
           ["Cyberattack disrupts ministry websites in {country}",
            "{country} arrests suspects over ransomware attack on hospitals"],
           ["Officials said no patient data had been stolen, though systems were offline.",
            "Investigators in {city} traced the attack to a known criminal group.",
            "The national cyber agency urged firms to patch a widely used VPN product.",
            "Services were restored after {hours} hours, the ministry said."]),
    _Topic("health", (3, 6),
           ["{country} reports rise in measles cases",
            "Hospitals in {city} strained by summer virus wave"],
           ["Health officials recorded {n} cases in the past month.",
            "Vaccination clinics in {city} extended opening hours until {month}.",
            "Doctors urged parents to check children's immunisation records.",
            "The health ministry said the situation was under control."]),
    _Topic("geopolitics", (4, 7),
           ["Foreign ministers meet in {city} to discuss regional trade corridor",
            "{country} and partners sign infrastructure pact"],
           ["Delegations from {small} countries attended the talks.",
            "The agreement covers roads, rail links and digital networks.",
            "Officials said financing would come from development banks and private investors.",
            "A follow-up meeting is planned for {month}."]),
]

# Near-misses: stories about Belarus, the Union State or the EU's eastern border that carry
# some, never all, of a watched signal's term groups. They keep the matcher honest.
_EAST = ("Eastern Europe", "Baltics")
_NEAR_MISSES = [
    _Topic("energy", (4, 6),
           ["Russia and Belarus extend gas price deal under Union State framework",
            "Minsk secures gas at {price} dollars under Union State agreement"],
           ["Gazprom and the Belarusian government said deliveries would stay at {price} "
            "dollars per thousand cubic metres until {year}.",
            "Officials framed the agreement as a step toward a single energy market inside the "
            "Union State.",
            "Minsk has sought price parity with Russian regions since the 2021 roadmaps.",
            "Analysts at {publisher} expect cheaper gas to support Belarusian refineries.",
            "Both parliaments still have to ratify the text, a formality in both capitals."],
           regions=_EAST),
    _Topic("economy", (3, 5),
           ["Polish truckers block {crossing} crossing in protest over transit permits",
            "Queues of lorries grow at Polish border with Belarus as hauliers protest"],
           ["Lorries stood idle on the approach to the {crossing} crossing on the border "
            "with Belarus as hauliers protested against foreign competition.",
            "Drivers said queues stretched for {km} kilometres and waits exceeded {hours} hours.",
            "Protest organisers want the EU to restore permit quotas for transport firms.",
            "Polish police said the blockade was peaceful and allowed buses through."],
           regions=_EAST),
    _Topic("infrastructure", (2, 5),
           ["Lithuania and Latvia sign financing for Rail Baltica section near Panevezys",
            "Rail Baltica cross-border works advance between Lithuania and Latvia"],
           ["The new section will carry passenger trains at up to 249 km per hour.",
            "Officials said EU funds would cover {pct} percent of the construction cost.",
            "Engineers expect the track to reach the Latvian border by {year}.",
            "Freight operators hope the line will shorten journeys to Warsaw and Tallinn."],
           regions=_EAST),
    _Topic("sports", (1, 3),
           ["Belarusian hockey squad travels to Riga for friendly despite visa row",
            "Latvia lets Belarusian hockey players in for charity match"],
           ["The Belarusian squad, arriving by bus through Paternieki, was met by a small "
            "protest outside the arena.",
            "Latvian officials said the players received visas under a sports exemption.",
            "The game raised money for a children's hospital in Riga, organisers said.",
            "Some Latvian politicians criticised the decision to host the team."],
           regions=_EAST),
    _Topic("economy", (4, 6),
           ["EU widens sanctions on Belarusian potash",
            "Lithuania tightens checks on Belarusian potash transit"],
           ["The new package bans transit of Belarusian potash through EU ports.",
            "Belaruskali has shifted shipments to Russian ports on the Baltic since 2022.",
            "Lithuanian customs said rail wagons leaving for Klaipeda would face extra checks.",
            "Farm groups in {country} warned that fertiliser prices could rise {pct} percent."],
           regions=_EAST),
    _Topic("economy", (3, 5),
           ["Belarus adopts law raising tax on citizens working abroad",
            "Minsk targets remittances with new tax bill"],
           ["The law adds a levy on income earned abroad by Belarusian residents.",
            "Roughly {n} thousand Belarusian citizens work at Russian factories and building "
            "sites, official data show.",
            "Economists said the measure aimed to plug a gap in the budget.",
            "The bill takes effect in {month} after approval by the upper house."],
           regions=_EAST),
    _Topic("geopolitics", (3, 5),
           ["Russia and Belarus move toward unified visa space for tourists",
            "Minsk and Moscow announce joint Union State media forum"],
           ["Visitors with a visa for one country will be able to travel to the other.",
            "Officials said the unified approach would boost tourism within the Union State.",
            "The forum will gather about {n} journalists in {by_city} in {month}.",
            "Critics said the event would showcase state messaging rather than news."],
           regions=_EAST),
    _Topic("security", (4, 7),
           ["Belarus orders snap combat readiness check",
            "Lukashenko orders inspection of western garrisons"],
           ["Lukashenko ordered a snap inspection of troops stationed near {by_city}.",
            "The Polish defence ministry said it was monitoring activity across the border.",
            "State television showed armoured vehicles moving to training grounds.",
            "Officials in Minsk said the check was planned and defensive."],
           regions=_EAST),
    _Topic("security", (4, 6),
           ["Polish border guards report attempts by migrants to cross from Belarus",
            "Lithuania extends state of emergency on border with Belarus"],
           ["Guards recorded {n} attempts by migrants from the Middle East and Africa to cross "
            "the fence this month.",
            "Officials said smuggling networks in Belarus arranged transport to the border.",
            "Aid groups reported people stranded in the forest in cold, wet weather.",
            "The government said the fence would be extended by {km} kilometres."],
           regions=_EAST),
]

# Genuine reports: every lead names a term of every group of its signal's rule, so the
# item matches whatever context sentences follow. Placeholders keep a surge's many reports
# paraphrased rather than copied.
_SIGNALS: dict[str, _Topic] = {
    "belarus-men-crossing-eu": _Topic(
        "security", (5, 8),
        ["Border guards report rise in Belarusian men crossing into {eu_neighbour}",
         "{n} Belarusian men cross into {eu_neighbour} in {hours} hours",
         "Queues at {crossing} as military-aged Belarusians head for the EU",
         "{eu_neighbour} sees influx of Belarusian men at {crossing}",
         "Young Belarusian men leaving for {eu_neighbour}, border data show",
         "Exodus of fighting-age Belarusians reported at {crossing}",
         "Belarusian men arriving in {eu_neighbour} cite fear of call-up",
         "Spike in arrivals of Belarusian men at {crossing} crossing",
         "{eu_adj} guards log {n} draft-age Belarusians at {crossing}",
         "Why Belarusian men are queueing at {crossing}",
         "Traffic at {crossing} surges as Belarusian men head west",
         "{hours}-hour waits at {crossing} as men leave Belarus"],
        ["Minsk has not commented on the numbers, and state television ignored the queues.",
         "Officials in {eu_town} said reception points had {n} beds available.",
         "Analysts linked the movement to rumours of new call-up lists circulating in {by_city}.",
         "Telegram channels in {by_city} shared advice on which documents to carry.",
         "The {eu_adj} government said it had sent {small} extra officers to {crossing}.",
         "Taxi drivers in {by_city} said fares to the border had risen {pct} percent in a week.",
         "Human rights groups urged {eu_neighbour} to keep {crossing} open to asylum seekers.",
         "Border officials expect heavy traffic at {crossing} for at least {days} more days.",
         "Queues on the Belarusian side stretched for about {km} kilometres, drivers said.",
         "Several of those interviewed said they had left jobs in {by_city} at short notice.",
         "A border service spokesperson in {eu_town} said checks took about {hours} hours.",
         "Bus operators from {by_city} added {small} extra departures this week.",
         "Volunteers in {eu_town} handed out water and SIM cards to about {n} new arrivals.",
         "The interior ministry in {eu_neighbour} will publish daily figures from {weekday}.",
         "Similar movements followed the disputed 2020 election, though on a smaller scale.",
         "Hostels in {eu_town} reported {pct} percent more bookings than a week ago.",
         "State media in {by_city} described the queues as ordinary seasonal travel."],
        ["Guards call it the busiest day at {crossing} this year, mostly men travelling alone.",
         "Rumours of call-up lists in {by_city} push young men toward {eu_neighbour}.",
         "{eu_adj} officials add staff at {crossing} as queues reach {km} kilometres.",
         "Reception points in {eu_town} say most of the {n} newcomers are men in their twenties.",
         "Waits at {crossing} top {hours} hours as departures from {by_city} climb."],
        ["{eu_adj} border guards said {n} Belarusian men crossed at {crossing} between "
         "midnight and noon, several times the usual number.",
         "{eu_adj} officers at {crossing} counted {n} military-aged Belarusians arriving on "
         "foot and by car since dawn, most travelling alone.",
         "The {eu_adj} interior ministry reported an influx of draft-age Belarusian men at "
         "{crossing}, with {n} cars queueing on the Belarusian side.",
         "Volunteers in {eu_neighbour} describe Belarusian men fleeing {by_city} with a single "
         "bag, many saying they feared a summons.",
         "Arrivals of fighting-age Belarusian men at {crossing} reached {n} in {hours} hours, "
         "according to the {eu_adj} border service.",
         "Lawyers in {eu_neighbour} said {small} Belarusian men who crossed the border this "
         "week had asked them for help.",
         "Belarusian male travellers made up most of the {n} people crossing at {crossing}, "
         "{eu_adj} officials said.",
         "An exodus of Belarusian men of military age is under way toward {eu_neighbour}, with "
         "{crossing} reporting {hours}-hour queues.",
         "Border data from {eu_neighbour} show Belarusian men leaving through {crossing} at "
         "about {rate} an hour.",
         "Relatives at {crossing} said Belarusian men from {by_city} were leaving before "
         "call-up notices arrived, heading for {eu_neighbour}.",
         "Draft-age Belarusians fled across the {eu_adj} border at {crossing} in numbers "
         "guards called unprecedented, {publisher} reported.",
         "{eu_adj} guards at {crossing} registered {n} Belarusian men crossing since {weekday}, "
         "most of military age."],
        regions=_SIGNAL_REGIONS,
    ),
    "union-state-conscription-harmonization": _Topic(
        "geopolitics", (6, 8),
        ["Minsk and Moscow discuss harmonizing conscription",
         "Union State lawmakers weigh common rules for military service",
         "Russia and Belarus study single conscription register",
         "Union State committee to meet in {month} on call-up rules"],
        ["No text of the proposal has been published, {publisher} noted.",
         "Belarusian officials said any change would need approval in Minsk.",
         "Exiled opposition figures warned the step could expose {n} thousand people to the war.",
         "The Kremlin called the discussion routine, {publisher} reported.",
         "A working group is due to report back in {month}.",
         "Deputies said a draft could reach both parliaments within {months} months."],
        ["The idea would tie Belarusian service obligations closer to Russia's.",
         "Officials in {by_city} and Moscow play down talk of a shared call-up."],
        ["Lawmakers in Minsk and Moscow discussed harmonizing conscription rules across the "
         "Union State at a session on {weekday}.",
         "A senior Russian deputy proposed common rules for military service in Russia and "
         "Belarus, including shared deferrals.",
         "Officials from Russia and Belarus are preparing a plan to align conscription "
         "calendars so call-up campaigns start together.",
         "The Union State standing committee put harmonisation of military service on its "
         "agenda for {month}."],
        regions=_SIGNAL_REGIONS,
    ),
    "union-state-joint-units": _Topic(
        "security", (6, 9),
        ["Russia and Belarus announce new Union State brigade near {by_city}",
         "Union State to establish joint air defence units",
         "Minsk and Moscow create Union State logistics formation",
         "Union State joint force to be ready by {month}"],
        ["The announcement follows exercises at the {range} training ground.",
         "Polish and Lithuanian officials said they were studying the statement.",
         "State television showed officers signing documents in {by_city}.",
         "Analysts at {publisher} said the move formalised existing cooperation.",
         "About {n} personnel are expected to serve in the new structure, officials said."],
        ["The step turns treaty language into a standing military structure.",
         "Neighbours watch as {by_city} gets a permanent allied headquarters."],
        ["The defence ministries of Russia and Belarus announced a new Union State brigade "
         "to be based near {by_city}.",
         "Minsk and Moscow will establish joint Union State units for air defence, the "
         "Belarusian defence minister said on {weekday}.",
         "A joint force of the Union State is to be created by {month}, according to a "
         "statement from the Supreme State Council.",
         "Officials announced that the regional grouping of forces of the Union State would "
         "receive a new battalion based in {by_city}."],
        regions=_SIGNAL_REGIONS,
    ),
    "belarus-service-law-change": _Topic(
        "geopolitics", (6, 8),
        ["Belarus moves to extend service duties to citizens in Russia",
         "Lukashenko signs decree on military duty for Belarusians abroad",
         "Minsk lawmakers back bill on conscription of emigrants",
         "New rules give Belarusians in Russia {days} days to register"],
        ["Rights groups said the change would affect about {n} thousand people.",
         "Consulates will begin registering citizens from {month}, officials said.",
         "The defence ministry said the measure would close loopholes.",
         "Opposition media in exile published a leaked copy of the text, {publisher} said.",
         "Lawyers in {by_city} reported a rush of questions from worried families."],
        ["The change reaches Belarusians who moved east for work.",
         "Consulates are preparing to register about {n} thousand people."],
        ["Belarus's parliament passed in first reading a bill extending military service "
         "to citizens residing in Russia for more than {months} months.",
         "Lukashenko signed a decree requiring Belarusians working in Russia to register for "
         "military duty at consulates within {days} days.",
         "Amendments to the Belarusian law on military duty would oblige citizens living in "
         "Russia to answer call-up papers within {days} days.",
         "A law published in Minsk would end conscription deferrals for Belarusians studying "
         "or working abroad from {month}."],
        regions=_SIGNAL_REGIONS,
    ),
    "belarusians-in-russian-formations": _Topic(
        "security", (5, 8),
        ["Belarusian volunteers spotted in Russian regiment near {front_town}",
         "Captured soldiers near {front_town} include Belarusian citizens, Kyiv says",
         "Investigation finds {small} Belarusians serving in Russian units"],
        ["Ukrainian officials released video interviews with the prisoners.",
         "Minsk denied any state role in recruiting its citizens.",
         "Researchers at {publisher} matched names against social media profiles.",
         "Relatives in {by_city} confirmed {small} of the identities to reporters.",
         "Recruiters offered signing bonuses of about {n} thousand roubles, documents show."],
        ["Evidence is mounting of Belarusians fighting in Russia's ranks near {front_town}.",
         "Names traced to {by_city} appear on personnel lists from the front."],
        ["Ukrainian intelligence said Belarusian volunteers were serving in a Russian "
         "regiment near {front_town}.",
         "Prisoners captured near {front_town} included {small} Belarusian citizens who had "
         "signed contracts with the Russian army.",
         "Investigative journalists identified {small} Belarusian nationals in Russian units "
         "deployed to {front_town}.",
         "Leaked personnel lists show Belarusian draftees assigned to Russian formations near "
         "{front_town}."],
        regions=_SIGNAL_REGIONS,
    ),
}
# fmt: on
_NEAR_MISS_SHARE = 0.06  # of background items; enough to hurt a sloppy matcher


@dataclass(frozen=True)
class _Draft:
    published: datetime
    kind: Kind
    signal_id: str | None
    region: str
    topic: _Topic
    publisher: tuple[str, str] | None = None  # drawn at random when not assigned


def generate(spec: FeedSpec = FeedSpec()) -> list[dict[str, object]]:
    """JSON-ready raw items in delivery order."""
    return [labeled.item for labeled in generate_labeled(spec)]


def generate_labeled(spec: FeedSpec = FeedSpec()) -> list[LabeledItem]:
    """The feed of ``generate`` with each item's ground truth, for tests and benchmarks."""
    rng = random.Random(spec.seed)
    drafts = [*_background(rng, spec), *_genuine(rng, spec), *_surge(rng, spec)]
    drafts.sort(key=lambda d: d.published)  # stable: ties keep draw order, so deterministic
    used: set[str] = set()
    items = [_finish(rng, spec.seed, n, d, used) for n, d in enumerate(drafts)]
    return _deliver(rng, items, spec.redelivery_rate)


def signal_reports(
    seed: int,
    signal_id: str,
    region: str,
    times: Sequence[datetime],
    publishers: Sequence[tuple[str, str]] | None = None,
) -> list[dict[str, object]]:
    """Reports of one signal published at ``times``, each worded afresh, in time order.

    With ``publishers`` the reports cycle through those outlets; otherwise each draws one.
    """
    rng = random.Random(f"{seed}|{signal_id}|{region}")
    topic = _SIGNALS[signal_id]
    used: set[str] = set()
    items = []
    for n, published in enumerate(sorted(times)):
        outlet = publishers[n % len(publishers)] if publishers else None
        draft = _Draft(published, "genuine", signal_id, region, topic, outlet)
        items.append(_finish(rng, seed, n, draft, used).item)
    return items


def write_jsonl(path: Path, items: Iterable[dict[str, object]]) -> int:
    """Write one JSON object per line; return the number of lines."""
    count = 0
    with path.open("wb") as out:
        for item in items:
            out.write(orjson.dumps(item) + b"\n")
            count += 1
    return count


def _background(rng: random.Random, spec: FeedSpec) -> Iterable[_Draft]:
    for day in range(spec.days):
        day_start = spec.start + timedelta(days=day)
        # Weekdays carry more news than weekends; the factors average to 1 over a week.
        factor = 1.1 if day_start.weekday() < 5 else 0.75
        for _ in range(round(spec.background_per_day * factor * rng.uniform(0.9, 1.1))):
            # News peaks in the European afternoon and never fully stops at night.
            published = day_start + timedelta(seconds=int(rng.triangular(0, 86_399, 50_400)))
            near = rng.random() < _NEAR_MISS_SHARE
            topic = rng.choice(_NEAR_MISSES if near else _BACKGROUND)
            kind: Kind = "near-miss" if near else "background"
            yield _Draft(published, kind, None, rng.choice(topic.regions), topic)


def _genuine(rng: random.Random, spec: FeedSpec) -> Iterable[_Draft]:
    if spec.genuine_every_days <= 0:
        return
    span = spec.days * 86_400
    for signal_id, topic in _SIGNALS.items():
        at = rng.expovariate(1 / (spec.genuine_every_days * 86_400))
        while at < span:
            published = spec.start + timedelta(seconds=int(at))
            yield _Draft(published, "genuine", signal_id, rng.choice(topic.regions), topic)
            at += rng.expovariate(1 / (spec.genuine_every_days * 86_400))


def _surge(rng: random.Random, spec: FeedSpec) -> Iterable[_Draft]:
    surge = spec.surge
    if surge is None:
        return
    # Cycling through a shuffled list spreads the surge over as many outlets as possible,
    # as when a story breaks everywhere at once.
    outlets = rng.sample(PUBLISHERS, len(PUBLISHERS))
    window = (surge.end - surge.start).total_seconds()
    topic = _SIGNALS[surge.signal_id]
    for i in range(surge.reports):
        published = surge.start + timedelta(seconds=int(rng.uniform(0, window)))
        outlet = outlets[i % len(outlets)]
        yield _Draft(published, "surge", surge.signal_id, surge.region, topic, outlet)


def _finish(rng: random.Random, seed: int, n: int, draft: _Draft, used: set[str]) -> LabeledItem:
    topic, fill = draft.topic, _Fill(rng, draft.region)
    # Signal reports never reuse a sentence: a surge must read as many reports, not one.
    fresh = used if draft.signal_id else None
    title = _pick(rng, topic.titles, fill, fresh)[0]
    body = _pick(rng, topic.leads, fill, fresh) if topic.leads else []
    body += _pick(rng, topic.sentences, fill, fresh, count=rng.randint(2, 5) - len(body))
    deck = None
    if topic.decks and rng.random() < (0.6 if draft.signal_id else 0.3):
        deck = _pick(rng, topic.decks, fill, fresh)[0]
    name, domain = draft.publisher or rng.choice(PUBLISHERS)
    item: dict[str, object] = {
        "id": f"wf-{seed}-{n:06d}",
        "title": title,
        "body": " ".join(body),
        "published_at": draft.published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": draft.region,
        "category": topic.category,
        "importance": rng.randint(*topic.importance),
        "sources": rng.sample(_SOURCES, rng.randint(1, 2)),
        "url": f"https://{domain}/{_slug(title)}-{n}",
        "publisher": name,
        "language": "en",
    }
    if deck:
        item["deck"] = deck
    return LabeledItem(item, draft.kind, draft.signal_id)


def _pick(
    rng: random.Random,
    templates: Sequence[str],
    fill: _Fill,
    used: set[str] | None,
    count: int = 1,
) -> list[str]:
    """Up to ``count`` texts from distinct templates; with ``used``, texts new to it."""
    seen = set() if used is None else used
    picked: list[str] = []
    spent: set[str] = set()
    # Two rounds: a template whose text was taken may give a new one with other values.
    for template in rng.sample(templates, len(templates)) * 2:
        if len(picked) == count:
            break
        text = template.format_map(fill)
        if template in spent or text in seen:
            # Values already printed in this item stay, so title and body tell one story.
            fill.forget()
            continue
        fill.pin()
        seen.add(text)
        picked.append(text)
        spent.add(template)
    return picked or [rng.choice(templates).format_map(fill)]  # a repeat beats no text


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].rstrip("-")


def _deliver(
    rng: random.Random, items: list[LabeledItem], redelivery_rate: float
) -> list[LabeledItem]:
    """Order items as a feed delivers them: a few late, a few twice."""
    schedule: list[tuple[float, int, LabeledItem]] = []
    for seq, labeled in enumerate(items):
        at = datetime.fromisoformat(str(labeled.item["published_at"])).timestamp()
        if rng.random() < _LATE_SHARE:
            at += rng.uniform(*_LATE_SECONDS)
        schedule.append((at, seq, labeled))
    for seq in sorted(rng.sample(range(len(items)), round(redelivery_rate * len(items)))):
        at, _, original = schedule[seq]
        again = LabeledItem(
            copy.deepcopy(original.item), original.kind, original.signal_id, redelivery=True
        )
        schedule.append((at + rng.uniform(*_REDELIVERY_DELAY_SECONDS), len(schedule), again))
    schedule.sort(key=lambda entry: entry[:2])
    return [labeled for _, _, labeled in schedule]
