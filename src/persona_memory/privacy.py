"""What must never be remembered: secrets, and what the user keeps private. Pure functions.

:func:`find_secrets` names the kinds of secret a text contains (never the secret itself). It
combines three detectors, each for what it does best:

1. **Known formats** (AWS, GitHub, GitLab, Slack, Stripe, OpenAI, JWT, private-key blocks,
   credentials in URLs, ...): the regex plugins of `detect-secrets`_, a maintained scanner.
2. **Random-looking tokens** (API keys of unknown vendors, bearer tokens): detect-secrets'
   Shannon entropy, applied to bare words. detect-secrets only measures entropy inside quoted
   strings (it scans code), and chat has no quotes, so the word splitting and the length-scaled
   threshold are ours. Hex strings (commit hashes, checksums) are common in innocent chat, so a
   hex string counts only next to a credential word.
3. **Said in words** ("my password is hunter2", "PIN: 4821") and **card numbers** (13-19 digits
   with a card-network prefix that pass the Luhn check). No library covers natural-language
   disclosure; detect-secrets' keyword plugin needs code syntax (``password = "..."``).

``tests/data/secrets_corpus.jsonl`` holds real-looking secrets and innocent look-alikes;
``tests/test_privacy.py`` measures the false positives and negatives.

.. _detect-secrets: https://github.com/Yelp/detect-secrets
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from typing import Any

from .errors import SecretRefusedError
from .text import STOP_WORDS, word_set

# ---- kinds (what the refusal says; the value is never repeated) ----

PASSWORD = "password or PIN"
TOKEN = "API key or token"
PRIVATE_KEY = "private key"
CARD = "card number"
CREDENTIAL_URL = "credentials in a URL"

# detect-secrets plugins that are not about secrets in chat: a public IP address is not a
# secret, and the keyword/entropy plugins are replaced by the chat-aware rules below.
_SKIPPED_PLUGINS = frozenset({"IPPublicDetector", "KeywordDetector"})
_KIND_OF_PLUGIN = {"PrivateKeyDetector": PRIVATE_KEY, "BasicAuthDetector": CREDENTIAL_URL}


@functools.lru_cache(maxsize=1)
def _format_plugins() -> tuple[Any, ...]:
    """detect-secrets' regex plugins, instantiated once (importing them costs ~0.3 s)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    classes: list[Any] = list(get_mapping_from_secret_type_to_class().values())
    return tuple(
        cls() for cls in classes if issubclass(cls, RegexBasedDetector) and cls.__name__ not in _SKIPPED_PLUGINS
    )


@functools.lru_cache(maxsize=1)
def _entropy() -> Callable[[str], float]:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    return Base64HighEntropyString().calculate_shannon_entropy  # type: ignore[no-any-return]


# Every format the plugins know has a long word with a digit (keys, tokens), a URL with
# credentials, or a key-file marker. Text without any of these skips the plugins, which keeps
# the common case fast and avoids importing detect-secrets (~0.3 s) for plain chat.
_MAYBE_FORMATTED = re.compile(r"(?=\S*\d)\S{11,}|://|PRIVATE KEY|PuTTY|_authToken", re.IGNORECASE)


def _format_secrets(text: str) -> list[str]:
    if _MAYBE_FORMATTED.search(text) is None:
        return []
    kinds = []
    for plugin in _format_plugins():
        if next(iter(plugin.analyze_string(text)), None) is not None:
            kinds.append(_KIND_OF_PLUGIN.get(type(plugin).__name__, plugin.secret_type))
    return kinds


# ---- random-looking tokens ----

_TOKEN_CHARS = re.compile(r"[A-Za-z0-9+/=_\-.~]+")
_HEX = re.compile(r"[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_CREDENTIAL_WORD = re.compile(
    r"\b(?:api|key|keys|token|secret|password|passwd|credential|credentials|auth|bearer|"
    r"authorization|private|access)\b",
    re.IGNORECASE,
)
MIN_TOKEN_CHARS = 20
MIN_HEX_CHARS = 32
MIN_PIECE_CHARS = 16
_PIECE_SEPARATORS = re.compile(r"[-_.~]")
_INTERLEAVED = re.compile(r"(?:a1b2c3d4e5f6g7h8i9j0|1a2b3c4d5e6f7g8h9i0j)\w*")
# A token is random-looking when its entropy (bits per character) reaches this share of the
# most its length allows (log2 of its length). Random base62 strings score ~0.9-0.95; words,
# dates and version strings glued together score below ~0.8 (measured on the test corpus).
ENTROPY_SHARE = 0.8


def _random_tokens(text: str) -> list[str]:
    credential_context = _CREDENTIAL_WORD.search(text) is not None
    for raw in text.split():
        word = raw.strip("\"'`()[]{}<>,;!?")
        word = word.rstrip(".:")
        if len(word) < MIN_TOKEN_CHARS or "://" in word or "@" in word:
            continue
        if not _TOKEN_CHARS.fullmatch(word) or _UUID.fullmatch(word):
            continue
        if _HEX.fullmatch(word):
            if credential_context and len(word) >= MIN_HEX_CHARS:
                return [TOKEN]
            continue
        # Judge the longest dash/dot/underscore-separated piece: "sk-proj-<random>" is a key,
        # "gpt-4o-mini-2024-07-18" is a name made of short words and numbers.
        piece = max(_PIECE_SEPARATORS.split(word), key=len)
        if len(piece) < MIN_PIECE_CHARS or _is_sequential(piece):
            continue
        if _HEX.fullmatch(piece):  # "mem_a8066c79b5921b07", "build-3f786850e387": ids, not keys
            if credential_context and len(piece) >= MIN_HEX_CHARS:
                return [TOKEN]
            continue
        digits = sum(c.isdigit() for c in piece)
        letters = sum(c.isalpha() for c in piece)
        if digits < 2 or letters < 2:
            continue
        if _entropy()(piece) >= ENTROPY_SHARE * math.log2(len(piece)):
            return [TOKEN]
    return []


def _is_sequential(piece: str) -> bool:
    from detect_secrets.filters.heuristic import is_sequential_string

    # also "a1b2c3d4...": letters and digits counting up in step
    return bool(is_sequential_string(piece)) or _INTERLEAVED.fullmatch(piece.lower()) is not None


# ---- said in words ----

_SECRET_WORDS = (
    r"pass(?:word|wd|code|phrase)s?|pwd|pw|pin(?:\s+(?:code|number))?|"
    r"(?:api|access|secret|private|license|licence|product)[\s_-]?key|"
    r"(?:access|auth|api|bearer|refresh|session)[\s_-]?token|token|"
    r"(?:security|door|gate|alarm|safe|lock|entry)\s+code|cvv2?|cvc|client[\s_-]secret|"
    r"(?:seed|recovery)\s+phrase|mnemonic|combo|combination"
)
_SAID = re.compile(
    rf"\b(?P<kind>{_SECRET_WORDS})\b"
    r"(?:\s+(?:for|to|of|on|at)\s+(?:[\w'-]+\s+){0,4}?)?"  # "password for my bank account"
    r"\s*(?P<assign>is|was|=|:|->|is\s+now|'s|’s)\s*"
    r"(?P<value>[\"'`“‘]?[^\s\"'`”’]+[\"'`”’]?)"
    r"(?P<after>\s*(?:$|[.,;!?)]|and\b|but\b|so\b|\s+[-–—]))?",
    re.IGNORECASE,
)
# "api key 3f9a...", "pin 4821": the value right after the word, with no "is" or ":"
_SAID_BARE = re.compile(rf"\b(?P<kind>{_SECRET_WORDS})\s+(?P<value>[^\s\"'`]+)", re.IGNORECASE)
# Words that, right after "password is", describe the password rather than reveal it.
_NOT_A_VALUE = STOP_WORDS | word_set(
    "changed expired wrong too really very long short weak strong easy hard same different "
    "reset stored written saved still also just something secret private safe hidden "
    "stuck broken lost locked blocked forgotten required needed incorrect invalid correct "
    "case sensitive protected encrypted missing empty new old mine yours his hers theirs "
    "set unknown sent taped somewhere here there"
)


def _said_secrets(text: str) -> list[str]:
    for match in _SAID_BARE.finditer(text):
        value = match.group("value").rstrip(".,;!?)")
        digits = sum(c.isdigit() for c in value)
        # only a value that cannot be a word or a small number
        if digits >= 4 and (len(value) >= 6 or value.isdigit()):
            return [_said_kind(match.group("kind"))]
    for match in _SAID.finditer(text):
        value = match.group("value")
        quoted = value[0] in "\"'`“‘" and len(value) > 2
        value = value.strip("\"'`“”‘’").rstrip(".,;!?)")
        if not value or value.casefold() in _NOT_A_VALUE:
            continue
        kind = match.group("kind").casefold()
        found = [_said_kind(kind)]
        if kind.endswith(("phrase", "mnemonic")):
            return found  # a wallet's recovery words are all plain words
        if quoted or any(c.isdigit() for c in value) or not value.isalnum():
            return found
        if value.isalpha() and len(value) >= 4 and match.group("after") is not None and found == [PASSWORD]:
            return found  # "my password is sunshine." : a bare word that ends the clause
    return []


def _said_kind(word: str) -> str:
    word = word.casefold()
    if word.startswith(("pass", "pw", "pin", "cvv", "cvc", "combo", "combination")) or word.endswith("code"):
        return PASSWORD
    return TOKEN


# ---- card numbers ----

_CARD = re.compile(r"(?<![\w.,-])\d(?:[ -]?\d){12,18}(?![\w-])")  # whole numbers, not digits inside a word
# Issuer prefixes of the major networks (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
# Maestro): an order or tracking number that passes Luhn by chance rarely also has one.
_CARD_PREFIX = re.compile(r"4|5[1-5]|2[2-7]|3[47]|3[0689]|6(?:011|5|4[4-9]|2)|35|5[06-9]|6[37]")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number passes."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        n = int(char)
        if i % 2 == 1:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_numbers(text: str) -> list[str]:
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if (
            13 <= len(digits) <= 19
            and _CARD_PREFIX.match(digits)
            and len(set(digits)) > 1  # not one digit repeated (0000 0000 0000 0000)
            and luhn_valid(digits)
        ):
            return [CARD]
    return []


# ---- public API ----


def find_secrets(text: str) -> list[str]:
    """The kinds of secret found in ``text`` (empty if none), without the secrets themselves."""
    kinds: list[str] = []
    for detector in (_format_secrets, _random_tokens, _said_secrets, _card_numbers):
        for kind in detector(text):
            if kind not in kinds:
                kinds.append(kind)
    return kinds


def refuse_secrets(text: str, argument: str = "content") -> None:
    """Raise :class:`~persona_memory.errors.SecretRefusedError` if ``text`` holds a secret."""
    kinds = find_secrets(text)
    if kinds:
        raise SecretRefusedError(argument, kinds)


# ---- what the user keeps private or asks to forget ----

_PRIVATE = re.compile(
    r"\b(?:(?:keep|this is|that's|that is|it's|it is)\s+(?:this\s+|it\s+|that\s+)?"
    r"(?:private|confidential|between (?:us|you and me))|"
    r"between (?:you and me|us)|off the record|don'?t (?:tell|share this with) anyone|"
    r"(?:do not|don'?t|never) (?:remember|store|save|record|write down) (?:this|that|it)|"
    r"(?:just )?between ourselves|(?:for|in) your ears only)\b",
    re.IGNORECASE,
)
_FORGET = re.compile(
    r"\b(?:please\s+)?(?:forget|erase|delete|remove)\s+(?:(?:about|that|what)\s+)?"
    r"(?:(?:i|I)\s+(?:told|said|mentioned|shared)\s+(?:you\s+)?(?:about\s+|that\s+)?)?"
    r"(?P<what>.*)",
    re.IGNORECASE,
)
_FORGET_START = re.compile(
    r"^\s*(?:(?:ok|okay|actually|hey|so|and|also|oh|um|uh),?\s+)*(?:please\s+|can you\s+|could you\s+)?"
    r"(?:forget|erase|delete|remove)\b",
    re.IGNORECASE,
)
_NOT_FORGET = re.compile(r"\b(?:don'?t|do not|never|won'?t)\s+forget\b", re.IGNORECASE)


def marked_private(text: str) -> bool:
    """True if the speaker marks this as private ("between us", "keep this private", ...)."""
    return _PRIVATE.search(text) is not None


def forget_request(text: str) -> str | None:
    """What the speaker asks to forget ("forget what I told you about my ex" -> "my ex"), or None.

    Only a turn that *starts* with the request counts, and "don't forget" is the opposite.
    Returns ``""`` for a request with no object ("forget it", "forget that").
    """
    if _NOT_FORGET.search(text) or not _FORGET_START.search(text):
        return None
    match = _FORGET.search(text)
    if match is None:
        return None
    what = match.group("what").strip().rstrip(".!?")
    return "" if what.casefold() in ("", "it", "that", "this") else what
