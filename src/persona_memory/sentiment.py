"""How positive or negative a text sounds, offline. Pure functions over a lexicon.

VADER (Hutto and Gilbert, 2014; the ``vaderSentiment`` package, MIT) scores a text from a
hand-rated lexicon of ~7,500 words, emoticons and slang, with rules for negation ("not
good"), intensifiers ("very") and punctuation ("!!!"). It was built for short social-media
text, which is what chat turns are, and it needs no model download.
"""

from __future__ import annotations

import functools
from typing import Any

#: |compound| at or above this counts as clearly emotional (VADER's authors use 0.05 for
#: "any sentiment"; chat is full of mild politeness, so the capture rules ask for more).
STRONG = 0.6


@functools.lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound(text: str) -> float:
    """VADER's compound score: -1 (most negative) to +1 (most positive)."""
    return float(_analyzer().polarity_scores(text)["compound"])


def is_sentiment_word(word: str) -> bool:
    """True if ``word`` carries sentiment in the lexicon ("love", "awful"): a feeling, not a topic."""
    return word.casefold() in _analyzer().lexicon
