"""The default, offline classifier of ``observe``: which turns are worth remembering. Pure.

It follows the memory faculty's "when to store" list. Each rule that fires on a turn adds a
type, an importance (the faculty's table: core identity 0.8-1.0, meaningful 0.5-0.7,
contextual 0.2-0.4) and tags; the turn is stored once, as the most specific type found::

    milestone        "I just got promoted!", "we got engaged", "I passed my exam"     0.9
    personal_fact    names, relationships, jobs, places, birthdays, health            0.8-0.9
    preference       "I'm vegetarian" (0.8), "I hate mornings" (0.6), "I like jazz" (0.5)
    emotional_moment a strongly felt first-person turn (VADER |compound| >= 0.6, or  0.6-0.7
                     "I feel/am so <feeling>")
    interest_signal  a subject brought up for the 2nd time or more                   0.5-0.7
    explicit request "remember that...", "don't forget..." (stored even if nothing
                     else fires; importance at least 0.7)

What is *not* stored (casual filler, private or forget requests, secrets) is decided before
these rules run, in ``observe``, so that every extractor gets the same guarantees.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from . import sentiment
from .models import Extraction, MemoryType, Turn
from .text import STOP_WORDS, word_set

# ---- filler ----

_FILLER_WORDS = word_set(
    "hi hello hey heya hiya yo sup thanks thank thx ty tysm cheers ok okay k kk cool nice great "
    "lol lmao rofl haha hahaha hehe yes yeah yep yup ya no nope nah sure bye goodbye cya later "
    "good morning night evening afternoon going how's hows whats what's up hmm hm um uh oh ah wow "
    "awesome alright right gotcha np welcome fine well same too also totally indeed exactly agreed "
    "much lot appreciate appreciated sounds fun love glad happy sorry see soon talk care take "
    "please pls plz doing been day today great nice cool"
)
MAX_FILLER_WORDS = 8
_WORD = re.compile(r"[\w']+")


def is_filler(text: str) -> bool:
    """Casual small talk with nothing to remember ("how's it going", "thanks!", "lol ok")."""
    words = [w.strip("'") for w in _WORD.findall(text.casefold())]
    words = [w for w in words if w]
    if not words:
        return True
    if len(words) > MAX_FILLER_WORDS:
        return False
    return all(w in _FILLER_WORDS or w in STOP_WORDS for w in words)


# ---- topics (for recurring subjects) ----

# Frequent verbs, adverbs and vague nouns of chat that are never the subject of a conversation.
_NOT_TOPICS = word_set(
    "about actually after again also always another anyone anything around away back because "
    "been before being best better big bit came can't come coming could couldn't day days did "
    "didn't does doesn't doing done don't down each even ever every everyone everything feel "
    "feeling felt find first get gets getting give go goes going gone got gotta great guess had "
    "has have having hear heard here how i'd i'll i'm i've into it's just keep kind know last "
    "let let's life like little long look looking lot lots made make makes making many maybe "
    "mean means might more most much must need needs never new next nice now off okay old once "
    "one only other others over own part people pretty put quite rather really right said same "
    "saw say says see seem seems seen should since so some someone something sometimes soon "
    "still stuff such sure take taking talk talked talking tell than thank thanks that's then "
    "there there's these they they're thing things think thinking this those though thought "
    "through time times today told tomorrow too took totally tried try trying turn two under "
    "until use used very want wanted wants was way ways we're week weekend well went were what's "
    "whatever when where whether which while who whole why will wish with without won't wonder "
    "work would wow yeah year years yes yesterday yet you're you've also gonna wanna lately "
    "recently finally definitely absolutely especially probably usually literally honestly "
    "hey hi hello thanks awesome amazing cool glad sounds sound remember forget note mind live lives "
    "lived living start starts started"
)
MIN_TOPIC_CHARS = 4
MAX_TOPIC_TAGS = 3


def topics(text: str) -> list[str]:
    """The subject words of a turn, lowercased and singular, in order of appearance."""
    found: list[str] = []
    for raw in _WORD.findall(text.casefold()):
        word = raw.strip("'")
        if word.endswith("'s"):
            word = word[:-2]
        if len(word) < MIN_TOPIC_CHARS or not word.isalpha():
            continue
        if word in STOP_WORDS or word in _NOT_TOPICS or sentiment.is_sentiment_word(word):
            continue
        word = _singular(word)
        if word not in found and word not in _NOT_TOPICS:
            found.append(word)
    return found


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 5:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 4:
        return word[:-1]
    return word


# ---- the rules ----

_I = r"(?:i|we)"
_RULES: list[tuple[str, MemoryType, float, tuple[str, ...], re.Pattern[str]]] = []


def _rule(name: str, kind: MemoryType, importance: float, tags: Sequence[str], pattern: str) -> None:
    _RULES.append((name, kind, importance, tuple(tags), re.compile(pattern, re.IGNORECASE)))


_rule(
    "milestone", MemoryType.MILESTONE, 0.9, ["milestone"],
    rf"\b{_I}(?:'ve|'re|'m| have| are| am)?\s+(?:just\s+|finally\s+|recently\s+|officially\s+)?"
    r"(?:got\s+|get\s+|getting\s+|been\s+)?(?:engaged|married|divorced|promoted|graduated|retired|"
    r"pregnant|hired|accepted\s+(?:into|to)|adopted)\b"
    r"|\b(?:had|having|expecting)\s+(?:a|our|my)\s+(?:first\s+|second\s+)?(?:baby|child|son|daughter)\b"
    r"|\bpassed\s+(?:my|the|our)\s+(?:\w+\s+)?(?:exam|test|bar|defen[cs]e|interview|certification)\b"
    r"|\b(?:got|landed|started|accepted|signed)\s+(?:a|my|the|an)\s+(?:new\s+|first\s+|dream\s+)?"
    r"(?:job|position|role|internship|offer|contract)\b"
    r"|\bbought\s+(?:a|our|my)\s+(?:first\s+|new\s+)?(?:house|home|car|apartment|flat)\b"
    r"|\b(?:first\s+day\s+(?:at|of)|(?:our|my)\s+(?:\w+\s+)?anniversary)\b"
    r"|\b(?:finished|completed|published|launched|won|defended)\s+(?:my|our|the|a|an)\s+"
    r"(?:first\s+|new\s+)?(?:thesis|book|novel|degree|marathon|race|championship|competition|"
    r"tournament|startup|company|album|award|prize|dissertation|phd|project)\b",
)
_rule("name", MemoryType.PERSONAL_FACT, 0.9, ["identity", "name"],
      r"\bmy\s+name(?:'s|\s+is)\b|\bcall\s+me\s+[A-Z]|\bi(?:'m|\s+am)\s+called\b")
_RELATIONS = (
    "wife|husband|partner|boyfriend|girlfriend|fianc[eé]e?|spouse|son|daughter|kids?|children|"
    "child|baby|mom|mum|mother|dad|father|parents?|brother|sister|siblings?|twin|"
    "grand(?:ma|pa|mother|father|parents?|son|daughter|kids?)|aunt|uncle|cousin|niece|nephew|"
    "best\\s+friend|roommate|boss|colleague|coworker|co-worker|mentor|dog|cat|pet|puppy|kitten"
)
_rule("relationship", MemoryType.PERSONAL_FACT, 0.8, ["family"],
      rf"\b(?:my|our)\s+(?:\w+\s+)?(?:{_RELATIONS})\b")
_rule("job", MemoryType.PERSONAL_FACT, 0.8, ["work"],
      r"\b(?:i|we)\s+(?:work|worked|am working|'m working)\s+(?:as|at|for|in)\b"
      r"|\bmy\s+(?:job|career|company|profession|workplace|employer)\b"
      r"|\bi(?:'m|\s+am)\s+(?:a|an)\s+(?:\w+\s+)?(?:teacher|engineer|nurse|doctor|developer|designer|"
      r"student|lawyer|artist|writer|manager|chef|scientist|programmer|researcher|accountant|"
      r"consultant|musician|photographer|counselor|counsellor|therapist|firefighter|officer|"
      r"pilot|farmer|painter|architect|dentist|pharmacist|professor|journalist|entrepreneur)\b")
_rule("place", MemoryType.PERSONAL_FACT, 0.8, ["place"],
      r"\b(?:i|we)\s+(?:live|lived|grew\s+up|was\s+born|were\s+born)\s+in\b|\bi(?:'m|\s+am)\s+from\b"
      r"|\b(?:i|we)(?:'ve|'re| have| are)?\s+(?:just\s+)?(?:moved|moving|relocat\w+)\s+(?:to|into|back)\b"
      r"|\bmy\s+(?:hometown|home\s+town|home\s+country|home\s+city|neighbou?rhood)\b")
_rule("birthday", MemoryType.PERSONAL_FACT, 0.8, ["birthday"],
      r"\bmy\s+birthday\b|\bi\s+was\s+born\s+(?:on|in)\b|\bi(?:'m|\s+am)\s+\d{1,3}\s+years?\s+old\b"
      r"|\bi\s+(?:just\s+)?turn(?:ed|s)?\s+\d{1,3}\b")
_rule("health", MemoryType.PERSONAL_FACT, 0.8, ["health"],
      r"\bi(?:'m|\s+am)\s+allergic\s+to\b|\bi\s+(?:have|was\s+diagnosed\s+with)\s+(?:\w+\s+)?"
      r"(?:diabetes|asthma|adhd|autism|anxiety|depression|celiac|coeliac|epilepsy|migraines?|"
      r"cancer|arthritis|allerg(?:y|ies))\b")
_rule("diet_identity", MemoryType.PREFERENCE, 0.8, ["preference", "identity"],
      r"\bi(?:'m|\s+am)\s+(?:a\s+)?(?:strict\s+)?(?:vegetarian|vegan|pescatarian|gluten[- ]free|"
      r"lactose[- ]intolerant|teetotal|sober|morning\s+person|night\s+owl|introvert|extrovert|"
      r"(?:a\s+)?(?:cat|dog)\s+person)\b|\bi\s+(?:don'?t|do\s+not|never)\s+(?:eat|drink)\b")
_REACTION_OBJECTS = r"(?:it|that|this|you|u|ya|them|those|these|him|her|the idea)(?:\s*[.!?,)]|\s*$)"
_rule("strong_preference", MemoryType.PREFERENCE, 0.6, ["preference"],
      rf"\b{_I}\s+(?:really\s+|absolutely\s+|totally\s+|just\s+|truly\s+|kind\s+of\s+)?"
      rf"(?:love|adore|hate|detest|despise|can'?t\s+stand|loathe)\s+(?!{_REACTION_OBJECTS})"
      r"|\b(?:my|our)\s+(?:all[- ]time\s+|absolute\s+)?fav(?:ou?rite)?\b")
_rule("preference", MemoryType.PREFERENCE, 0.5, ["preference"],
      rf"\b{_I}\s+(?:really\s+|also\s+|usually\s+|generally\s+|much\s+)?"
      rf"(?:like|enjoy|prefer|dislike)\s+(?!{_REACTION_OBJECTS})"
      r"|\bi(?:'m|\s+am)\s+(?:really\s+|so\s+|not\s+)?(?:into|(?:a\s+)?(?:big\s+|huge\s+)?fan\s+of)\b"
      r"|\bi\s+(?:don'?t|do\s+not)\s+(?:really\s+)?(?:like|enjoy)\b")
_FEELINGS = (
    "happy|sad|excited|anxious|nervous|stressed|frustrated|angry|upset|depressed|lonely|proud|"
    "grateful|thrilled|scared|afraid|worried|overwhelmed|heartbroken|devastated|relieved|"
    "exhausted|hopeful|ecstatic|miserable|hurt|jealous|ashamed|embarrassed|burned\\s+out|"
    "burnt\\s+out|terrified|elated|inspired|motivated|discouraged|hopeless|grieving|blessed|"
    "touched|moved|amazed|furious|disappointed"
)
_FEELING = re.compile(
    rf"\b(?:i|we)(?:'m|'re|\s+am|\s+are|\s+was|\s+were|\s+feel|\s+felt|\s+have\s+been|'ve\s+been)\s+"
    rf"(?:so\s+|really\s+|very\s+|super\s+|incredibly\s+|pretty\s+|a\s+bit\s+|kind\s+of\s+|truly\s+|"
    rf"extremely\s+|absolutely\s+|quite\s+)*(?:{_FEELINGS})\b",
    re.IGNORECASE,
)
_REACTION = re.compile(
    r"\b(?:for|with|of)\s+(?:you|u|ya|both of you|you guys)\b|\bto\s+(?:hear|see|know)\b|"
    r"\b(?:sorry|glad|happy)\s+(?:about|that)\s+(?:that|this|it)\b",
    re.IGNORECASE,
)
_YOU = re.compile(r"\b(?:you|your|you're|yours|u)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|we|we're|our|us)\b", re.IGNORECASE)
_EXPLICIT = re.compile(
    r"\b(?:remember\s+(?:that|this|my|me|i|when)|don'?t\s+forget|do\s+not\s+forget|never\s+forget|"
    r"keep\s+in\s+mind|make\s+a\s+note|note\s+that|for\s+the\s+record|remind\s+me)\b",
    re.IGNORECASE,
)
_PRIORITY = (
    MemoryType.MILESTONE,
    MemoryType.PERSONAL_FACT,
    MemoryType.PREFERENCE,
    MemoryType.EMOTIONAL_MOMENT,
    MemoryType.INTEREST_SIGNAL,
    MemoryType.GENERAL,
)
EXPLICIT_IMPORTANCE = 0.7
RECURRING_MENTIONS = 2  # "if the user brings up a subject 2+ times, it's worth remembering"


def content_for(text: str, speaker: str) -> str:
    """What is stored: the turn itself for the user, ``"<speaker>: <turn>"`` for anyone else."""
    text = " ".join(text.split())
    return text if speaker.casefold() == "user" else f"{speaker}: {text}"


def extract(turn: Turn) -> list[Extraction]:
    """The memory worth keeping from ``turn`` (at most one), or ``[]`` if nothing is."""
    text = turn.text
    hits: list[tuple[str, MemoryType, float, tuple[str, ...]]] = []
    for name, kind, importance, rule_tags, pattern in _RULES:
        match = pattern.search(text)
        if match:
            extra = _relation_tag(match.group()) if name == "relationship" else ()
            hits.append((name, kind, importance, rule_tags + extra))
    mood = sentiment.compound(text)
    # "I'm so happy for you", "glad to hear that": a reaction to the other person, not a moment
    # of one's own; "I love pasta" is a taste, not a mood.
    reaction = _REACTION.search(text) is not None
    felt = _FEELING.search(text) is not None and not reaction
    liked = any(h[1] is MemoryType.PREFERENCE for h in hits)
    strong = abs(mood) >= sentiment.STRONG and _FIRST_PERSON.search(text) and not _YOU.search(text)
    if felt or (strong and not liked and not reaction):
        importance = 0.7 if abs(mood) >= 0.8 else 0.6
        hits.append(("emotion", MemoryType.EMOTIONAL_MOMENT, importance,
                     ("emotion", "positive" if mood >= 0 else "negative")))
    recurring = _recurring(turn.topic_counts, turn.related) if _FIRST_PERSON.search(text) else []
    if recurring:
        peak = max(turn.topic_counts.get(t, RECURRING_MENTIONS) for t in recurring)
        importance = min(0.7, 0.5 + 0.05 * (peak - RECURRING_MENTIONS))
        hits.append(("recurring_topic", MemoryType.INTEREST_SIGNAL, importance, ("interest",)))
    explicit = _EXPLICIT.search(text) is not None
    if not hits and not explicit:
        return []
    if not hits:
        hits.append(("explicit", MemoryType.GENERAL, EXPLICIT_IMPORTANCE, ()))
    kind = min((h[1] for h in hits), key=_PRIORITY.index)
    importance = max(h[2] for h in hits)
    if explicit:
        importance = max(importance, EXPLICIT_IMPORTANCE)
    tags: list[str] = []
    for hit in hits:
        tags.extend(t for t in hit[3] if t not in tags)
    if explicit:
        tags.append("explicit")
    subject = [t for t in recurring if t not in tags] or [t for t in turn.topic_counts if t not in tags]
    tags.extend(subject[:MAX_TOPIC_TAGS])
    rules = "+".join(dict.fromkeys(h[0] for h in hits)) + ("+explicit" if explicit and hits[0][0] != "explicit" else "")
    return [
        Extraction(
            content=content_for(text, turn.speaker),
            type=kind,
            importance=round(importance, 3),
            tags=tuple(tags),
            rule=rules,
            metadata={"sentiment": round(mood, 4)},
        )
    ]


def _recurring(counts: Mapping[str, int], related: Sequence[str]) -> list[str]:
    """Subjects of this turn brought up before, most mentioned first.

    A subject recurs when it was counted at least twice (this turn included), or when it
    appears in a closely related earlier memory (found by the store's search, which is
    semantic as well as lexical when the store has an embedder).
    """
    earlier = set()
    for content in related:
        earlier.update(topics(content))
    again = [t for t, n in counts.items() if n >= RECURRING_MENTIONS or t in earlier]
    return sorted(again, key=lambda t: -counts.get(t, 0))


def _relation_tag(matched: str) -> tuple[str, ...]:
    word = matched.split()[-1].casefold()
    return (_singular(word),) if word.isalpha() else ()
