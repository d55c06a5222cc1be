"""Need answers: which of marketing's configured needs the visitor's words match."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from leadqual.understanding.parsing.common import (
    EMAIL_OR_URL,
    UNKNOWN,
    Need,
    fold_map,
    never_raises,
    normalize,
    plural_equal,
    within_one_edit,
)

_WORD_TOKEN = re.compile(r"[^\W_]+")


_NEED_NONE = re.compile(
    r"\bnada en (?:concreto|especial|particular)\b|\bnada concreto\b|\bnada especial\b"
    r"|^(?:nada|ninguna|ninguno|nothing|none)[\s.!]*$|\bsolo (?:estoy |estamos )?(?:curioseando|mirando"
    r"|viendo|echando un vistazo|informandome)\b|\bcurioseando\b|\bsolo miro\b|\bno (?:necesito|busco"
    r"|necesitamos|buscamos) nada\b|\bde momento nada\b|\bnothing (?:in particular|specific|really)\b"
    r"|\bjust (?:looking|browsing|curious|checking)\b|\bonly looking\b|\bnot looking for anything\b"
    r"|^(?:pues |bueno )?(?:estoy|estamos) (?:mirando|viendo|curioseando|informandome|investigando)\b"
    r"|^(?:i'?m |we'?re )?(?:just |only )?(?:browsing|looking around|researching)\b"
    r"|\bde todo un poco\b|\bun poco de todo\b|\b(?:a )?(?:bit|little) of everything\b"
)


# What a business buys that is none of marketing's needs: an answer naming it has no
# configured need (value None), like "nada en concreto". Checked only when no need matched.
_OTHER_SOFTWARE = re.compile(
    r"\b(?:contabilidad|contable|contables|facturacion|facturas|factura electronica|nominas?|inventarios?"
    r"|stock|almacen(?:es)?|erp|pagina web|sitio web|tienda (?:online|en linea|virtual)|e-?commerce"
    r"|comercio electronico|gestion de proyectos|proyectos|recursos humanos|rrhh|logistica|flotas?"
    r"|reservas|ciberseguridad|hosting|aplicacion movil|app movil|traducciones|impuestos|tesoreria"
    r"|accounting|bookkeeping|invoicing|invoices|billing|payroll|inventory|warehouse|web ?site|web page"
    r"|online (?:store|shop)|project management|projects|human resources|hr|logistics|fleet|bookings"
    r"|cybersecurity|mobile app|translations?|taxes|treasury)\b"
)


# "mi correo es …", "my email:": a contact detail, not email marketing. Masked with the
# addresses and links, whose words ("ana@marketing.es") are no need either.
_CONTACT_WORD = re.compile(
    r"\b(?:mi|my|tu|your|su|our|nuestro|el|the)\s+(?:correo|email|e-mail|mail)(?:\s+(?:electronico|address))?\b"
)


# Words that name whose data or which team, not what to do with it: "informes de ventas"
# is reporting, "customer complaints" is support. Such a word attached to another need's
# word counts half (see parse_need).
_GENERIC_NEED_WORDS = frozenset(
    {
        "cliente",
        "clientes",
        "venta",
        "ventas",
        "comercial",
        "comerciales",
        "usuario",
        "usuarios",
        "customer",
        "customers",
        "client",
        "clients",
        "sale",
        "sales",
        "user",
        "users",
    }
)


# Between a need's word and a generic word that completes it: "incidencias de los clientes",
# "reports for our sales team", "informes comerciales".
_NEED_COMPLEMENT_GAP = re.compile(
    r"\s+(?:(?:de|del|para|a|al|con|of|from|for|on|about|by|with)\s+"
    r"(?:(?:los|las|la|el|nuestros|nuestras|nuestro|nuestra|mis|mi|sus|su|the|our|my|their|your)\s+)?)?"
)


# "clientes y soporte", "customers, support": coordinated, both count whole.
_COORDINATED = re.compile(r"\s*(?:,|/|&)?\s*(?:(?:y|e|o|u|and|or|plus)\s+)?(?:(?:tambien|also)\s+)?")


_NEED_ADJUNCT_GAP = re.compile(r"(?:'s|')?\s+")


def _token_match(word: str, syn: str) -> int:
    """2 exact or plural/singular, 1 one-letter typo (long words only), 0 no match."""
    if plural_equal(word, syn):
        return 2
    if len(syn) >= 6 and len(word) >= 5 and abs(len(word) - len(syn)) <= 3:
        forms = {syn, syn + "s", syn + "es"}
        if syn.endswith("es"):
            forms.add(syn[:-2])
        if syn.endswith("s"):
            forms.add(syn[:-1])
        if any(within_one_edit(word, f) for f in forms):
            return 1
    return 0


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _typo_forms(word: str) -> set[str]:
    forms = {word, word + "s", word + "es"}
    if word.endswith("es"):
        forms.add(word[:-2])
    if word.endswith("s"):
        forms.add(word[:-1])
    return forms


@dataclass(frozen=True)
class _CompiledNeeds:
    entries: list[tuple[int, str, tuple[str, ...]]]  # longest synonyms first
    # Index of single-deletion variants of every long synonym word (and its plural
    # forms): a token within one edit of a word shares a variant with it, so only those
    # few words need the exact edit check, not every synonym.
    deletion_index: dict[str, set[str]]
    words: frozenset[str]
    # Synonym words that only say whose data it is ("clientes", "ventas", "customers"):
    # the built-in list plus any word configured for one need that also appears in a
    # synonym of another need ("clientes" / "atención al cliente").
    generic: frozenset[str]


@functools.lru_cache(maxsize=32)
def _compile_needs(key: tuple) -> _CompiledNeeds:
    """Synonym entries (need order, need id, words) and the typo index."""
    entries: list[tuple[int, str, tuple[str, ...]]] = []
    for order, (need_id, by_lang) in enumerate(key):
        seen: set[tuple[str, ...]] = set()
        for _lang, synonyms in by_lang:
            for syn in synonyms:
                words = tuple(_WORD_TOKEN.findall(normalize(syn)))
                if words and words not in seen:
                    seen.add(words)
                    entries.append((order, need_id, words))
    entries.sort(key=lambda e: (-len(e[2]), e[0]))
    all_words = frozenset(w for _, _, words in entries for w in words)
    words_by_need: dict[str, set[str]] = {}
    for _, need_id, words in entries:
        words_by_need.setdefault(need_id, set()).update(words)
    generic = {w for w in all_words if w in _GENERIC_NEED_WORDS}
    for need_id, own in words_by_need.items():
        others = {w for other_id, ws in words_by_need.items() if other_id != need_id for w in ws}
        generic |= {w for w in own if len(w) > 3 and any(plural_equal(w, o) for o in others)}
    index: dict[str, set[str]] = {}
    for word in all_words:
        if len(word) >= 6:
            for form in _typo_forms(word):
                for variant in _deletions(form) | {form}:
                    index.setdefault(variant, set()).add(word)
    return _CompiledNeeds(entries, index, all_words, frozenset(generic))


def _token_scores(token: str, compiled: _CompiledNeeds) -> dict[str, int]:
    """Synonym word -> _token_match score, for the few words that can match `token`."""
    plural_forms = (token, token + "s", token + "es", token[:-1], token[:-2])
    candidates = {form for form in plural_forms if form in compiled.words}
    if token.endswith("ies"):
        candidates.add(token[:-3] + "y")
    if token.endswith("y"):
        candidates.add(token[:-1] + "ies")
    if len(token) >= 5:
        for variant in _deletions(token) | {token}:
            candidates |= compiled.deletion_index.get(variant, set())
    scores = {}
    for word in candidates & compiled.words:
        score = _token_match(token, word)
        if score:
            scores[word] = score
    return scores


def _needs_key(needs: dict) -> tuple:
    key = []
    for need_id, by_lang in needs.items():
        if not isinstance(need_id, str) or not isinstance(by_lang, dict):
            continue
        langs = []
        for lang, synonyms in by_lang.items():
            if isinstance(synonyms, (list, tuple)):
                langs.append((str(lang), tuple(s for s in synonyms if isinstance(s, str))))
        key.append((need_id, tuple(langs)))
    return tuple(key)


@never_raises
def parse_need(
    text: str,
    needs: dict[str, dict[str, list[str]]],
    lang: str = "es",
    *,
    requested: bool = True,
) -> Need | None:
    """The configured need the visitor describes, matched on synonyms of both languages.

    Longer synonyms are matched first and consume their words, so "atención al cliente"
    counts for support and not also for "clientes" (CRM).
    """
    if not isinstance(needs, dict):
        return None
    folded, index = fold_map(text)
    masked = folded
    if "@" in masked or "www." in masked or "http" in masked or "<" in masked:
        masked = EMAIL_OR_URL.sub(lambda m: " " * len(m.group()), masked)
    masked = _CONTACT_WORD.sub(lambda m: " " * len(m.group()), masked)
    tokens = [(m.group(), m.start(), m.end()) for m in _WORD_TOKEN.finditer(masked)]
    compiled = _compile_needs(_needs_key(needs))
    token_scores: dict[str, dict[str, int]] = {}
    for token, _, _ in tokens:
        if token not in token_scores:
            token_scores[token] = _token_scores(token, compiled)
    reachable = {word for scores in token_scores.values() for word in scores}
    used = [False] * len(tokens)
    matches: list[tuple[str, int, int, int, int]] = []  # need id, order, first token, last token, typos
    for order, need_id, words in compiled.entries:
        if not reachable.issuperset(words):
            continue
        n = len(words)
        for i in range(len(tokens) - n + 1):
            if any(used[i : i + n]):
                continue
            scores = [token_scores[tokens[i + k][0]].get(words[k], 0) for k in range(n)]
            if min(scores) == 0 or (not requested and min(scores) < 2):
                continue
            for k in range(n):
                used[i + k] = True
            generic = all(w in compiled.generic for w in words)
            matches.append((need_id, order if not generic else -1 - order, i, i + n - 1, scores.count(1)))
    counts: dict[str, list] = {}  # need id -> [weight, order, typos, spans]
    for need_id, order, first, last, typos in matches:
        weight = 1.0
        if order < 0:  # a generic word: half when it completes another need's word
            order = -1 - order
            for other_id, _, o_first, o_last, _ in matches:
                if other_id == need_id:
                    continue
                if o_last < first:
                    gap = folded[tokens[o_last][2] : tokens[first][1]]
                    attached = _NEED_COMPLEMENT_GAP.fullmatch(gap) is not None
                elif last < o_first:
                    attached = _NEED_ADJUNCT_GAP.fullmatch(folded[tokens[last][2] : tokens[o_first][1]]) is not None
                else:
                    attached = False
                if attached:
                    weight = 0.5
                    break
            else:
                # Whose data, beside another need's own word and not coordinated with it:
                # "incidencias que mandan los clientes" is support.
                for other_id, other_order, o_first, o_last, _ in matches:
                    if other_id == need_id or other_order < 0:
                        continue
                    lo, hi = (o_last, first) if o_last < first else (last, o_first)
                    if not _COORDINATED.fullmatch(folded[tokens[lo][2] : tokens[hi][1]]):
                        weight = 0.5
                        break
        entry = counts.setdefault(need_id, [0.0, order, 0, []])
        entry[0] += weight
        entry[2] += typos
        entry[3].append((tokens[first][1], tokens[last][2]))
    if counts:
        best_id, (score, _, typos, spans) = min(counts.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
        tie = sum(1 for v in counts.values() if v[0] == score) > 1
        spans.sort()
        matched = ", ".join(text[index[s] : index[e - 1] + 1] for s, e in spans)
        confidence = 0.9 if not typos else 0.75
        if tie:
            confidence = min(confidence, 0.6)
        return Need(value=best_id, matched=matched, confidence=confidence)
    if requested:
        for pattern, confidence in ((_NEED_NONE, 0.85), (_OTHER_SOFTWARE, 0.8), (UNKNOWN, 0.8)):
            m = pattern.search(masked)
            if m:
                return Need(
                    value=None,
                    matched=text[index[m.start()] : index[m.end() - 1] + 1].strip(),
                    confidence=confidence,
                )
    return None
