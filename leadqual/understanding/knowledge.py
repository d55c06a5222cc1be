"""Answer visitors' questions about Nubilo from marketing's config/knowledge.yml (Spanish first,
English too), offline.

The file is validated on load with pydantic; an error names the field
("entries[3].answer.en: Field required"). Matching is a small TF-IDF nearest-neighbour search in
pure Python over the entries' example questions and keywords; nothing is fetched at run time:

- a message and every example are read the same way: lower case, no accents, no ¿¡ or
  punctuation, chat spellings expanded ("q" -> "que"), two tokens that make a known word joined
  ("sales force"), stop words of both languages out;
- a word the index has never seen is read as the known word one edit away, if any (typos:
  "presio", "salesfroce"; looked up through a table of one-letter deletions);
- each text has two blocks of features, each L2-normalised: words (cut to their first `_STEM`
  letters, so "integración", "integrate" and "integrations" meet; plus word pairs) and
  character 3- and 4-grams inside words (what is left of a typo or a variant);
- the closest examples by cosine are scored by how much of the example is in the message and
  how much of the message the example's entry explains (`_Index.search` has the rules); a word
  the index does not know weighs against the match ("¿qué tiempo hace hoy en Madrid?");
- examples of both languages are searched: English typed in a Spanish chat still gets the
  answer, in the chat's language.

`match` returns None below the file's `threshold`; `answer` turns that into the fallback text
(offer a person). `looks_like_question` tells whether the visitor is asking at all (the chat only
answers questions) and `is_price_dependent` reads "depende del precio" as a budget answer.
Whatever text they are given, these functions return a value instead of raising (a broken
knowledge.yml raises KnowledgeError when it is loaded: load it at start-up with `knowledge()`).
"""

from __future__ import annotations

import heapq
import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from leadqual import settings
from leadqual.config.marketing import ROOT, ConfigError, _load_yaml
from leadqual.understanding.language import DEFAULT, normalize_code
from leadqual.understanding.parsing import normalize

log = logging.getLogger(__name__)

DEFAULT_KNOWLEDGE = ROOT / "config" / "knowledge.yml"
TOPICS = ("pricing", "trial", "integrations", "security", "support", "onboarding", "company")
# Longer messages are not a question to look up (and keep matching bounded on hostile input).
MAX_INPUT = 1000
MAX_ANSWER = 500
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]*)\)")


class KnowledgeError(ConfigError):
    """config/knowledge.yml is invalid; the message names the file and the field."""


# -- the file -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _field_error(loc: tuple, message: str, value: object) -> ValidationError:
    return ValidationError.from_exception_data(
        "knowledge", [InitErrorDetails(type=PydanticCustomError("knowledge", message), loc=loc, input=value)]
    )


class Text(_Strict):
    """One non-blank text per language."""

    es: str
    en: str

    @field_validator("es", "en")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text is empty")
        return value.strip()

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.es


class Answer(Text):
    """What the assistant replies: chat-sized, at most one link (a site path, https or mailto)."""

    @field_validator("es", "en")
    @classmethod
    def _chat_sized(cls, value: str) -> str:
        if len(value) > MAX_ANSWER:
            raise ValueError(f"the answer has {len(value)} characters; keep it to {MAX_ANSWER} for a chat")
        links = _LINK.findall(value)
        if len(links) > 1:
            raise ValueError("an answer may contain at most one link")
        for target in links:
            if not re.match(r"^(/|https://|mailto:)", target):
                raise ValueError(f"link {target!r} must start with /, https:// or mailto:")
        return value


class Questions(_Strict):
    """Example questions per language: at least one each, none blank."""

    es: list[str] = Field(min_length=1)
    en: list[str] = Field(min_length=1)

    @field_validator("es", "en")
    @classmethod
    def _not_blank(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            if not value.strip():
                raise _field_error((i,), "the question is empty", value)
        return [v.strip() for v in values]


class Keywords(_Strict):
    es: list[str] = []
    en: list[str] = []

    @field_validator("es", "en")
    @classmethod
    def _not_blank(cls, values: list[str]) -> list[str]:
        for i, value in enumerate(values):
            if not str(value).strip():
                raise _field_error((i,), "the keyword is empty", value)
        return [str(v).strip() for v in values]


class Entry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=60)
    topic: Literal[TOPICS]  # type: ignore[valid-type]
    questions: Questions
    keywords: Keywords = Keywords()
    answer: Answer


class KnowledgeBase(_Strict):
    """config/knowledge.yml, validated. `index` (built on first use) is what `match` searches."""

    threshold: float = Field(gt=0, lt=1)
    price_band: Text
    fallback: Text
    continue_prompt: Text
    # After an answer given before any question was asked: an offer to start them (Sí / Ahora no).
    offer_questions: Text = Text(
        es="¿Quieres que veamos qué plan os encaja? Son unas preguntas rápidas.",
        en="Shall we see which plan would suit you? It's a few quick questions.",
    )
    entries: list[Entry] = Field(min_length=1)

    _index: object = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> KnowledgeBase:
        ids = [e.id for e in self.entries]
        for i, entry_id in enumerate(ids):
            if entry_id in ids[:i]:
                raise _field_error(("entries", i, "id"), f"duplicate entry id {entry_id!r}", entry_id)
        seen: dict[str, str] = {}
        for i, entry in enumerate(self.entries):
            for lang in ("es", "en"):
                for j, question in enumerate(getattr(entry.questions, lang)):
                    key = " ".join(_TOKEN.findall(normalize(question)))
                    if key in seen and seen[key] != entry.id:
                        raise _field_error(
                            ("entries", i, "questions", lang, j),
                            f"the same question is an example of entry {seen[key]!r}",
                            question,
                        )
                    seen.setdefault(key, entry.id)
        return self

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)

    @property
    def index(self) -> _Index:
        if self._index is None:
            self._index = _Index(self)
        return self._index


def field_path(loc: tuple) -> str:
    """('entries', 3, 'answer', 'en') -> 'entries[3].answer.en'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def problems(data: object) -> list[dict]:
    """What is wrong with plain knowledge data, as [{"field", "message"}] (empty when valid),
    fields written "entries[3].answer.en"; for an editor or a flow that checks before publishing."""
    if not isinstance(data, dict):
        return [{"field": "(top level)", "message": "must be a mapping"}]
    try:
        KnowledgeBase(**data)
    except ValidationError as exc:
        return [{"field": field_path(tuple(err["loc"])), "message": err["msg"]} for err in exc.errors()]
    return []


def build(data: object, source: str = "knowledge.yml") -> KnowledgeBase:
    """A KnowledgeBase from plain data; KnowledgeError naming every wrong field."""
    found = problems(data)
    if found:
        raise KnowledgeError("\n".join([f"{source} is invalid:", *(f"  {p['field']}: {p['message']}" for p in found)]))
    return KnowledgeBase(**data)


def load_knowledge(path: Path | str | None = None) -> KnowledgeBase:
    """config/knowledge.yml (or LEADQUAL_KNOWLEDGE, or `path`), validated."""
    path = Path(path or settings.KNOWLEDGE.get(str(DEFAULT_KNOWLEDGE)))
    try:
        data = _load_yaml(path)
    except KnowledgeError:
        raise
    except ConfigError as exc:
        raise KnowledgeError(str(exc)) from None
    return build(data, path.name)


@lru_cache(maxsize=1)
def knowledge() -> KnowledgeBase:
    """The process-wide knowledge (loaded once)."""
    return load_knowledge()


# -- reading a text -------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")
# Chat spellings read as the word they stand for.
_ALIASES = {
    "q": "que",
    "k": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "x": "por",
    "tb": "tambien",
    "tmb": "tambien",
    "info": "informacion",
    "u": "you",
    "ur": "your",
    "r": "are",
    "wsp": "whatsapp",
    "wapp": "whatsapp",
}
# Words that say nothing about which entry is meant (both languages: visitors mix them).
_STOP = frozenset(
    """
    a al ante con contra de del desde durante e el en entre hacia hasta la las le les lo los mediante o para
    por que se segun sin sobre tras u un una unas uno unos y ya yo tu te ti mi me nos os su sus vos usted
    ustedes vosotros nosotros es son esta estan este esto eso esa ese aqui ahi muy mas pero si no tambien
    hola buenas buenos tardes noches oye oiga oigan che pues bueno ok okay gracias porfa favor
    favor tio wey guey boludo una pregunta duda saber gustaria quisiera queria quiero podrias puedes
    decir dime cuentame contadme explicame informacion algo alguna alguno algun cual cuales como
    hay tiene tienen teneis tenes tienes tener tengo tenemos puede pueden puedo podeis
    podemos podria podriamos podriais puedes podes sea ser estar sois estais estamos estas estoy soy porque
    vuestro vuestra vuestros vuestras nuestro nuestra nuestros nuestras cada
    the an and or of to in on at for from with by about as is are be been was were am do does did i
    you your yours we our us it its this that these those there here my me so hi hello hey thanks thank
    please pls guys just really quick question tell know like would could can will any some what whats which
    how have has had get got does doesnt dont should shall may might per also s t d m ll re ve
    """.split()
)
_STEM = 6  # letters kept of a word
# "cuánto", "who"...: part of a question, not evidence of what it is about.
_INTERROGATIVES = (
    "que cual cuales cuanto cuanta cuantos cuantas como donde cuando quien quienes what how which where when who why"
)


def _tokens(text: str) -> list[str]:
    """`text` normalised (lower case, no accents, no punctuation) as words, aliases expanded."""
    return [_ALIASES.get(t, t) for t in _TOKEN.findall(normalize(text.replace("\u2019", "'")))]


def _words(text: str) -> list[str]:
    """The content words of `text`: its tokens without stop words."""
    return [t for t in _tokens(text) if t not in _STOP]


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:_STEM]


_INTERROGATIVE_WORDS = frozenset(_INTERROGATIVES.split())
_INTERROGATIVE_STEMS = frozenset("w:" + _stem(w) for w in _INTERROGATIVE_WORDS)


def _weak(feature: str) -> bool:
    """An interrogative or a small number: shared with an example, it says nothing of the topic."""
    return feature in _INTERROGATIVE_STEMS or (feature[2:].isdigit() and len(feature) <= 4)


def _grams(word: str) -> list[str]:
    padded = f"<{word}>"
    return [padded[i : i + n] for n in (3, 4) for i in range(len(padded) - n + 1)]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


# -- the index ------------------------------------------------------------------------------

WORD_WEIGHT = 0.5  # share of the word cosine in the score (the rest: character n-grams)
_MIN_TYPO = 5  # words at least this long are looked up as typos
_CANDIDATES = 20  # examples closest by cosine that are scored
_ALIKE = 0.6  # character n-gram Dice from which two words count as the same word (variants, typos)


@dataclass(frozen=True)
class _Vector:
    """A text's features: word block and gram block, each L2-normalised; `sources` says which
    of the text's words gave each feature (to tell which words carried a match)."""

    words: dict[str, float]
    grams: dict[str, float]
    sources: dict[str, tuple[int, ...]] = field(default_factory=dict)


class _Index:
    """TF-IDF of word and character n-gram features over every example question and keyword."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.entries = list(kb.entries)
        texts: list[tuple[int, list[str]]] = []
        # docs that are keywords: marketing's words that mean the entry on their own
        self.keyword_docs: set[int] = set()
        for position, entry in enumerate(self.entries):
            for lang in ("es", "en"):
                questions, keywords = getattr(entry.questions, lang), getattr(entry.keywords, lang)
                for i, text in enumerate([*questions, *keywords]):
                    words = _words(text)
                    if words:
                        if i >= len(questions):
                            self.keyword_docs.add(len(texts))
                        texts.append((position, words))
        self.vocabulary: dict[str, int] = {}
        df: dict[str, int] = {}
        raw = []
        for _, words in texts:
            counts = self._counts(words)
            raw.append(counts)
            for feature in counts:
                df[feature] = df.get(feature, 0) + 1
            for word in words:
                self.vocabulary[word] = self.vocabulary.get(word, 0) + 1
        n = len(texts)
        self.unseen_idf = math.log((n + 1) / 1) + 1
        self.idf = {f: math.log((n + 1) / (d + 1)) + 1 for f, d in df.items()}
        # word -> known words of 5+ letters one edit away (through shared one-letter deletions)
        self.typos: dict[str, set[str]] = {}
        for word in self.vocabulary:
            if len(word) >= _MIN_TYPO and not word.isdigit():
                for key in {word} | _deletes(word):
                    self.typos.setdefault(key, set()).add(word)
        self.word_grams = {w: set(_grams(w)) for w in self.vocabulary}
        self._alike_cache: dict[str, frozenset[str]] = {}
        self.gram_words: dict[str, set[str]] = {}
        for word, grams in self.word_grams.items():
            for gram in grams:
                self.gram_words.setdefault(gram, set()).add(word)
        # every feature of an entry's examples and keywords (what "the entry explains")
        self.entry_features: list[set[str]] = [set() for _ in self.entries]
        for (position, _), counts in zip(texts, raw, strict=True):
            self.entry_features[position] |= set(counts)
        # what the answer talks about: explains a word at half weight ("¿precio del plan Profesional?")
        self.answer_features: list[set[str]] = [set() for _ in self.entries]
        for position, entry in enumerate(self.entries):
            for lang in ("es", "en"):
                answer_words = _words(entry.answer.get(lang))
                self.answer_features[position] |= {"w:" + _stem(w) for w in answer_words if not w.isdigit()}
        self.docs: list[tuple[int, _Vector]] = []
        # docs of a single word: the only ones a one-word message is compared with
        self.one_word: set[int] = set()
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for doc, ((position, words), counts) in enumerate(zip(texts, raw, strict=True)):
            vector = self._vector(counts, {})
            self.docs.append((position, vector))
            if len({_stem(w) for w in words if not w.isdigit()}) == 1:
                self.one_word.add(doc)
            for feature, weight in (*vector.words.items(), *vector.grams.items()):
                self.postings.setdefault(feature, []).append((doc, weight))

    @staticmethod
    def _counts(words: list[str], sources: dict[str, list[int]] | None = None) -> dict[str, float]:
        counts: dict[str, float] = {}

        def add(feature: str, positions: tuple[int, ...], weight: float = 1.0) -> None:
            counts[feature] = counts.get(feature, 0.0) + weight
            if sources is not None:
                sources.setdefault(feature, []).extend(positions)

        stems = [_stem(w) for w in words]
        for i, stem in enumerate(stems):
            add("w:" + stem, (i,))
            for gram in _grams(words[i]):
                add("g:" + gram, (i,))
        for i in range(len(stems) - 1):
            add("b:" + stems[i] + "_" + stems[i + 1], (i, i + 1), 0.5)
        return counts

    def _vector(self, counts: dict[str, float], sources: dict[str, list[int]]) -> _Vector:
        blocks: dict[str, dict[str, float]] = {"w": {}, "g": {}}
        for feature, count in counts.items():
            weight = (1 + math.log(count)) if count >= 1 else count
            blocks["g" if feature[0] == "g" else "w"][feature] = weight * self.idf.get(feature, self.unseen_idf)
        normalised = []
        for block in (blocks["w"], blocks["g"]):
            norm = math.sqrt(sum(v * v for v in block.values())) or 1.0
            normalised.append({f: v / norm for f, v in block.items()})
        return _Vector(normalised[0], normalised[1], {f: tuple(p) for f, p in sources.items()})

    def correct(self, word: str) -> str:
        """A word unseen by the index read as the known word one edit away, if there is one."""
        if word in self.vocabulary or len(word) < _MIN_TYPO or word.isdigit() or word in _INTERROGATIVE_WORDS:
            return word
        candidates: set[str] = set()
        for key in {word} | _deletes(word):
            candidates |= self.typos.get(key, set())
        if not candidates:
            return word
        return min(candidates, key=lambda c: (-self.vocabulary[c], abs(len(c) - len(word)), c))

    def _joined(self, tokens: list[str]) -> list[str]:
        """Two tokens that make a known word written apart read as one ("sales force", "e mail")."""
        out: list[str] = []
        i = 0
        while i < len(tokens):
            if i + 1 < len(tokens) and tokens[i] + tokens[i + 1] in self.vocabulary:
                out.append(tokens[i] + tokens[i + 1])
                i += 2
            else:
                out.append(tokens[i])
                i += 1
        return out

    def query(self, text: str) -> tuple[list[str], list[str], _Vector]:
        """(the message's content words as typed, as read after typo correction, its vector)."""
        typed = [t for t in self._joined(_tokens(text)[:300]) if t not in _STOP][:200]
        words = [self.correct(w) for w in typed]
        sources: dict[str, list[int]] = {}
        return typed, words, self._vector(self._counts(words, sources), sources)

    def search(self, text: str) -> tuple[int, float, int, list[str], _Vector] | None:
        """(entry position, score, best example, typed words, message vector) of the best entry.

        The _CANDIDATES examples closest by cosine are scored sqrt(R * P): R, how much of the
        example is in the message (so the context around a question costs little), and P, the
        share of the message's idf mass that the example's entry explains (the words of all its
        examples and keywords; its answer's words at half weight). Then:
        - a one-word message must contain the example's word itself (or its typo);
        - sharing only an interrogative or a small number with the entry is no match;
        - when the entry explains just one of two or more content words ("¿qué tiempo hace hoy en
          Madrid?": only "madrid"), the score is multiplied by P again, unless that word is one
          of the entry's keywords, which marketing declares to mean the entry on their own."""
        typed, read, q = self.query(text)
        if not typed:
            return None
        # One content word ("¿y el precio?", "trial?") is only compared with one-word examples and
        # keywords: a word that means an entry on its own is a keyword; "tiempo" alone is not.
        one_word = sum(1 for f in q.words if f.startswith("w:") and not f[2:].isdigit()) == 1
        cosine: dict[int, float] = {}
        for block, share in ((q.words, WORD_WEIGHT), (q.grams, 1 - WORD_WEIGHT)):
            for feature, weight in block.items():
                for doc, doc_weight in self.postings.get(feature, ()):
                    if not one_word or doc in self.one_word:
                        cosine[doc] = cosine.get(doc, 0.0) + share * weight * doc_weight
        if not cosine:
            return None
        candidates = [d for d, _ in heapq.nlargest(_CANDIDATES, cosine.items(), key=lambda kv: (kv[1], -kv[0]))]
        words = self._message_words(q, {_stem(w): w for w in read})
        content = sum(1 for feature, _, _ in words if not _weak(feature))
        only_interrogatives = all(feature in _INTERROGATIVE_STEMS for feature, _, _ in words)
        explained: dict[int, tuple[float, int]] = {}
        best: tuple[float, int] | None = None
        for doc in candidates:
            position, d = self.docs[doc]
            if position not in explained:
                explained[position] = self._explained(position, words)
            share, count = explained[position]
            word_recall = math.sqrt(sum(v * v for f, v in d.words.items() if f in q.words))
            recall = WORD_WEIGHT * word_recall
            recall += (1 - WORD_WEIGHT) * math.sqrt(sum(v * v for f, v in d.grams.items() if f in q.grams))
            score = math.sqrt(min(1.0, recall) * share)
            if one_word and word_recall < 0.95:
                score = 0.0  # a one-word message needs that very word (or its typo), not a look-alike
            elif count == 0 and not only_interrogatives:
                # only an interrogative or a number in common ("¿cuánto es 2 más 2?"); a message
                # of interrogatives alone ("¿quiénes sois?", "¿de dónde sois?") is matched as it is
                score = 0.0
            elif count < 2 and content >= 2 and not (doc in self.keyword_docs and word_recall >= 0.95):
                score *= share
            if best is None or score > best[0]:
                best = (score, doc)
        score, doc = best
        return self.docs[doc][0], min(1.0, score), doc, typed, q

    def _message_words(self, q: _Vector, by_stem: dict[str, str]) -> list[tuple[str, float, frozenset[str]]]:
        """Each distinct word of the message: its stem feature, its idf and the stem features of
        known words that look alike (character n-gram Dice >= _ALIKE: "monthly"/"month")."""
        out = []
        for feature in q.words:
            if feature.startswith("w:"):
                word = by_stem.get(feature[2:], feature[2:])
                out.append((feature, self.idf.get(feature, self.unseen_idf), self._alike(word)))
        return out

    def _alike(self, word: str) -> frozenset[str]:
        found = self._alike_cache.get(word)
        if found is None:
            found = frozenset()
            if len(word) >= 4:
                grams = set(_grams(word))
                shared: dict[str, int] = {}
                for gram in grams:
                    for other in self.gram_words.get(gram, ()):
                        shared[other] = shared.get(other, 0) + 1
                found = frozenset(
                    "w:" + _stem(other)
                    for other, n in shared.items()
                    if 2 * n >= _ALIKE * (len(grams) + len(self.word_grams[other]))
                )
            if len(self._alike_cache) > 20000:  # bounded: visitors' words are unbounded
                self._alike_cache.clear()
            self._alike_cache[word] = found
        return found

    def _explained(self, position: int, words: list[tuple[str, float, frozenset[str]]]) -> tuple[float, int]:
        """(share of the message's idf mass the entry explains, how many of its words it explains).
        A word is explained when it, or a known word that looks alike, is in the entry."""
        features, in_answer = self.entry_features[position], self.answer_features[position]
        total = explained = 0.0
        count = 0
        for feature, idf, alike in words:
            total += idf
            if feature in features or not alike.isdisjoint(features):
                explained += idf
                count += not _weak(feature)
            elif feature in in_answer or not alike.isdisjoint(in_answer):
                explained += idf / 2
        return (explained / total if total else 0.0), count

    def carried_by(self, doc: int, typed: list[str], q: _Vector) -> tuple[str, ...]:
        """The visitor's words (as read) that gave most of the best example's score."""
        _, d = self.docs[doc]
        credit = [0.0] * len(typed)
        for block, doc_block, share in ((q.words, d.words, WORD_WEIGHT), (q.grams, d.grams, 1 - WORD_WEIGHT)):
            for feature, weight in block.items():
                if feature in doc_block:
                    positions = q.sources.get(feature, ())
                    for position in positions:
                        credit[position] += share * weight * doc_block[feature] / len(positions)
        total = sum(credit) or 1.0
        ranked = sorted(range(len(typed)), key=lambda i: (-credit[i], i))
        return tuple(dict.fromkeys(typed[i] for i in ranked if credit[i] / total >= 0.15))


# -- matching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """The entry a message asks about, its score (0-1) and the visitor's words that carried it
    (normalised: lower case, no accents; a typo as typed)."""

    entry: Entry
    score: float
    words: tuple[str, ...]

    @property
    def entry_id(self) -> str:
        return self.entry.id

    @property
    def topic(self) -> str:
        return self.entry.topic


@dataclass(frozen=True)
class KnowledgeAnswer:
    """What to reply: the entry's answer (known=True) or the fallback that offers a person
    (known=False, entry_id None). JSON-able with to_dict() for a slot or an event."""

    known: bool
    text: str
    lang: str
    entry_id: str | None = None
    topic: str | None = None
    score: float = 0.0
    words: tuple[str, ...] = ()

    @property
    def dont_know(self) -> bool:
        return not self.known

    def to_dict(self) -> dict:
        return {
            "known": self.known,
            "text": self.text,
            "lang": self.lang,
            "entry_id": self.entry_id,
            "topic": self.topic,
            "score": self.score,
            "words": list(self.words),
        }


def _lang(lang: object) -> str:
    return normalize_code(lang) or DEFAULT


def match(
    text: object, lang: str = DEFAULT, *, kb: KnowledgeBase | None = None, threshold: float | None = None
) -> Match | None:
    """The entry `text` asks about, or None when nothing scores `threshold` (the file's by default)
    or the text is empty, not a string or longer than MAX_INPUT. Never raises."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_INPUT:
        return None
    try:
        kb = kb or knowledge()
        found = kb.index.search(text)
        if found is None:
            return None
        position, score, doc, typed, q = found
        if score < (kb.threshold if threshold is None else threshold):
            return None
        return Match(kb.index.entries[position], round(score, 4), kb.index.carried_by(doc, typed, q))
    except KnowledgeError:
        raise
    except Exception:  # matching must never break the conversation
        log.exception("knowledge match failed")
        return None


def answer(text: object, lang: str = DEFAULT, *, kb: KnowledgeBase | None = None) -> KnowledgeAnswer:
    """The answer to `text` in `lang`, or the fallback ("I don't know, shall I find a person?")."""
    kb = kb or knowledge()
    lang = _lang(lang)
    found = match(text, lang, kb=kb)
    if found is None:
        return KnowledgeAnswer(known=False, text=kb.fallback.get(lang), lang=lang)
    return KnowledgeAnswer(
        known=True,
        text=found.entry.answer.get(lang),
        lang=lang,
        entry_id=found.entry.id,
        topic=found.entry.topic,
        score=found.score,
        words=found.words,
    )


def price_band(lang: str = DEFAULT, *, kb: KnowledgeBase | None = None) -> str:
    """The typical price range, for a visitor whose budget "depends on the price"."""
    return (kb or knowledge()).price_band.get(_lang(lang))


def continue_prompt(lang: str = DEFAULT, *, kb: KnowledgeBase | None = None) -> str:
    """Said after an answer given in the middle of the qualification questions."""
    return (kb or knowledge()).continue_prompt.get(_lang(lang))


def offer_questions(lang: str = DEFAULT, *, kb: KnowledgeBase | None = None) -> str:
    """Said after an answer given before the questions: an offer to start them."""
    return (kb or knowledge()).offer_questions.get(_lang(lang))


# -- is the visitor asking? -----------------------------------------------------------------

# Read on normalize()d text with punctuation turned into spaces; patterns of both languages
# apply whatever the chat's language (visitors switch).
_LEAD = (
    r"^(?:(?:hola|buenas|buenos dias|buenas tardes|oye|oiga|oigan|che|una pregunta|otra pregunta|pregunta|duda|una duda"
)
_LEAD += (
    r"|y|e|pero|entonces|vale|ok|okay|bueno|perdona|perdon|disculpa|por cierto|ah|eh|hi|hello|hey|so|and|also|ok so"
)
_LEAD += r"|btw|quick question|one more thing|sorry|ey|ei)\s+)*"
_ES_WH = (
    r"(?:que (?!si\b|no\b|bien|guay|pena|mal\b|bueno|va\b|tal\b|raro|rollo|fuerte|horror)\w+"
    r"|cual|cuales|cuanto (?!antes\b|mas\b)|cuanta|cuantos|cuantas|por que|para que"
    r"|como (?!te\b|le\b|ya\b|siempre\b|unos?\b|unas?\b|\d|mucho|maximo|minimo|poco|dije|decia|somos)\w+"
    r"|donde (?:esta|estan|estais|se |guardan|guardais|alojan|tienen|teneis|hay|queda|puedo|estan)"
    r"|cuando (?:es|sera|puedo|podemos|podria|empieza|abre|abris|atendeis|atienden|termina|se )"
    r"|quien(?:es)? (?:es|son|sois|eres|usa|usan|esta|estan|hay|me |lo usa|mas))"
)
_ES_YESNO = (
    r"(?:tienes|tiene|tienen|teneis|tenes|hay (?!\d|que\b)|ofrece|ofreces|ofrecen|ofreceis|incluye|incluyen"
    r"|integra|integran|integrais|se integra|se integran|se puede|se pueden|se conecta|se sincroniza|podeis"
    r"|pueden|puedes|podes|podrias|podriais|podrian|puedo (?:probar|ver|pagar|usar|importar|conectar|integrar"
    r"|cancelar|contratar|pedir|hablar|tener|cambiar|migrar|exportar|acceder|elegir|empezar|llamar|darme|traer)"
    r"|funciona|funcionan|es posible|existe|existen|soporta|soportan|permite|permiten|admite|admiten|aceptan"
    r"|aceptais|dais|dan |dan$|haceis|hacen|cuentan con|contais con|trabajais|trabajan con|cumple|cumplen"
    r"|cumplis|conecta|conectan|sincroniza|esta incluid|estan incluid|va incluid|viene con|vale la pena"
    r"|cuesta|cuestan|es caro|es gratis|es facil|es seguro|estais|sois|me ayudais|me ayudan|ayudais|hablais)"
)
_EN_WH = (
    r"(?:what(?!\s+(?:we|i)\s+(?:need|want|are|am|have))|whats|how|which|where|why|whose"
    r"|when (?:is|are|do|does|can|will|would|should|did)|who (?:is|are|uses|use|owns|runs)|whos)"
)
_EN_YESNO = (
    r"(?:do (?:you|u|i|we|they|the|your)|does|did you|is (?:there|it|this|the|your|my|our|support|nubilo)"
    r"|are (?:there|the|your|my|our|prices)|can (?:i|we|you|u|it|nubilo|my|our)|could (?:i|we|you)"
    r"|will (?:it|you|i|we|my)|would (?:it|you|i|we)|have you|has it|should (?:i|we)|may i|got any|any chance)"
)
_QUESTION_START = re.compile(_LEAD + r"(?:" + "|".join((_ES_WH, _ES_YESNO, _EN_WH, _EN_YESNO)) + r")")
_ASKING = re.compile(
    r"\b(?:me gustaria saber|quisiera saber|queria saber|quiero saber|me interesa saber|necesito saber"
    r"|me (?:podrias|puedes|podeis|pueden|podria|puede|podrian) (?:decir|contar|explicar|informar|confirmar|aclarar)"
    r"|dime|decime|decidme|digame|cuentame|contame|contadme|explicame|explicadme|informame|aclarame"
    r"|tengo (?:una|otra) (?:duda|pregunta)|una (?:duda|pregunta)|(?:mas )?informacion (?:sobre|de|del|acerca)"
    r"|info (?:sobre|de|del|acerca)|queria preguntar|quiero preguntar|os queria preguntar"
    r"|i(?:d| would) like to know|i want to know|i wonder|i was wondering|wondering (?:if|whether|about|what|how)"
    r"|tell me|let me know|quick question|i have a question|question about|(?:more )?info (?:about|on)"
    r"|(?:more )?information (?:about|on)|details (?:about|on)|explain|curious (?:about|if|whether))\b"
)
# Questions that are small talk, not about the product.
_SMALL_TALK = re.compile(
    r"^(?:(?:hola|buenas|hey|hi|hello|oye|y|and)\s+)*"
    r"(?:que tal(?: estas| andas| todo| va)?|como estas|como andas|como va|como te va|todo bien|que hay|que onda"
    r"|que pasa|eres (?:un )?(?:bot|robot|humano|una persona|real)"
    r"|hay alguien|me oyes|me lees|estas ahi|en serio|de verdad|si|no|vale|ok|que|como|perdona|perdon|eh|mande"
    r"|how are you(?: doing)?|how s it going|hows it going|whats up|sup|are you (?:a )?(?:bot|robot|human|real)"
    r"|anyone there|is anyone there|you there|really|seriously|sorry|what|pardon|huh|ok|yes|no|right|ready)"
    r"(?:\s+(?:tu|tio|bro|man|mate|amigo|che))?$"
)


def _plain(text: str) -> str:
    """normalize() with punctuation as spaces and typographic apostrophes dropped."""
    t = normalize(text.replace("\u2019", "'")).replace("'", "")
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", t)).strip()


def looks_like_question(text: object, lang: str = DEFAULT) -> bool:
    """True when the visitor asks something (¿?, an interrogative or a question verb first, or
    "me gustaría saber", "do you have…", "tell me about…"), except small talk ("¿qué tal?").
    An answer to a qualification question ("unos 5000 €", "lo decido yo") is not one."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_INPUT:
        return False
    try:
        plain = _plain(text)
        if not plain or _SMALL_TALK.match(plain):
            return False
        if "?" in text or "¿" in text:
            return True
        return bool(_QUESTION_START.match(plain) or _ASKING.search(plain))
    except Exception:  # never break the conversation
        log.exception("looks_like_question failed")
        return False


_PRICE_WORD = (
    r"(?:precio|precios|coste|costes|costo|costos|cuesta|cueste|cuesten|cuestan|costara|costaria|valga|valgan"
    r"|sale|salga|salgan|tarifa|tarifas|cuota|cuotas|cobr\w*|pagar|pague|cuanto|cuanta|price|prices|pricing"
    r"|cost|costs|costing|charge|charges|charging|fee|fees|quote|how much|what (?:it|you) (?:cost|charge))"
)
_DEPENDS = re.compile(
    r"(?<!\bno )(?<!\bnot )(?<!\bdoesnt )(?<!\bdoes not )(?<!\bwont )"
    r"\b(?:depende|dependera|dependeria|dependiendo|segun|en funcion|it depends|depends|depending|based on"
    r"|subject to|hinges on|varia|va a depender)\b(?:\s+\w+){0,5}?\s+" + _PRICE_WORD + r"\b"
)
_ASKS_PRICE = re.compile(
    r"\bcuanto (?:cuesta|cuestan|vale|valen|sale|salen|seria|costaria|cobrais|cobran|cobras|es|me sale|nos sale"
    r"|me costaria|nos costaria|me cobrarias|nos cobrariais|nos cobrarian)\b"
    r"|\b(?:cual|que) (?:es |seria |son )?(?:el |los |vuestro |vuestros |su |sus |tu |tus )?precios?\b"
    r"|\bhow much (?:is|does|would|will|do you|are|it)\b|\bwhat(?:s| is| are| would be| does)? (?:the |your |it )?"
    r"(?:price|prices|pricing|cost)\b|\bwhat do you charge\b"
    r"|\bsi (?:el|los) precios? (?:es|son|esta|estan|encaja|encajan|cuadra|cuadran|me convence|nos convence)\b"
    r"|\bif the price(?:s)? (?:is|are|fits|works)\b|\bprice dependent\b"
)


def is_price_dependent(text: object, lang: str = DEFAULT) -> bool:
    """True for a budget answer that waits on the price: "depende del precio", "según lo que
    cueste", "depends on the price", "no sé, ¿cuánto cuesta?". False for "depende de mi jefe",
    "no depende del precio", an amount or "no sé"."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_INPUT:
        return False
    try:
        plain = _plain(text)
        return bool(_DEPENDS.search(plain) or _ASKS_PRICE.search(plain))
    except Exception:  # never break the conversation
        log.exception("is_price_dependent failed")
        return False
