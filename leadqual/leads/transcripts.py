"""A conversation's transcript from Rasa tracker events (plain JSON dicts, as the action server
and Rasa's HTTP API both give them): who said what, when.

SDRs read transcripts to see why a lead scored what it did, and the CRM packet carries one, so
a click is shown as the button's title ("Menos de 3 meses"), not as its payload. Text is kept as
typed; whoever shows it in HTML must escape it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# Longest line kept: a pasted novel does not fill the database.
MAX_TEXT = 4000
# What the widget sends when it opens (web/embed/chat.js, initPayload): not typed by the visitor.
OPENING_PAYLOADS = ("/greet",)


def _moment(timestamp: object) -> datetime | None:
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(timestamp, timezone.utc)
    return None


def replies_of(messages: list[dict], at: datetime) -> list[dict]:
    """The lines of the bot's replies an action is sending (rasa-sdk's dispatcher messages), as
    lines_from_events will read them once they are in the tracker; times from `at`, in order."""
    lines: list[dict] = []
    for message in messages:
        text = str(message.get("text") or "")
        buttons = [b for b in message.get("buttons") or [] if isinstance(b, dict)]
        if not text and not buttons:
            continue
        data = {"buttons": [b.get("title") for b in buttons]} if buttons else {}
        moment = at + timedelta(microseconds=len(lines))
        lines.append({"at": moment, "sender": "bot", "author": None, "text": text[:MAX_TEXT], "data": data})
    return lines


def lines_from_events(events: list[dict]) -> list[dict]:
    """Messages of `events` in order: `{"at", "sender", "author", "text", "data"}`, sender one of
    visitor, bot or sdr (a bot event whose metadata names an `sdr`).

    Only the lines after the conversation's last `restart` event: a restart starts the conversation
    over, as Rasa's own `GET /conversations/<id>/tracker` shows it (the chat restarts a
    conversation whose person was erased, and their earlier lines must not be copied back)."""
    events = [e for e in events or [] if isinstance(e, dict)]
    restarts = [i for i, e in enumerate(events) if e.get("event") == "restart"]
    if restarts:
        events = events[restarts[-1] + 1 :]
    lines: list[dict] = []
    offered: dict[str, str] = {}  # payload -> title of the buttons last offered
    for event in events:
        kind = event.get("event")
        at = _moment(event.get("timestamp"))
        if at is None or kind not in ("user", "bot"):
            continue
        text = str(event.get("text") or "")
        if kind == "user":
            if text.split("{", 1)[0] in OPENING_PAYLOADS:
                continue  # the chat opening: the bot's greeting follows
            data: dict = {}
            if text in offered:
                data = {"payload": text}
                text = offered[text]
            lines.append({"at": at, "sender": "visitor", "author": None, "text": text[:MAX_TEXT], "data": data})
            continue
        event_data = event.get("data") or {}
        buttons = [b for b in event_data.get("buttons") or [] if isinstance(b, dict)]
        offered = {str(b.get("payload")): str(b.get("title") or "") for b in buttons if b.get("payload")}
        metadata = event.get("metadata") or {}
        sdr = metadata.get("sdr") if isinstance(metadata, dict) else None
        if not text and not buttons:
            continue
        lines.append(
            {
                "at": at,
                "sender": "sdr" if sdr else "bot",
                "author": str(sdr)[:50] if sdr else None,
                "text": text[:MAX_TEXT],
                "data": {"buttons": [b.get("title") for b in buttons]} if buttons else {},
            }
        )
    return lines
