"""chat.js carries the teaser of the newest published flow, not only of config/messages.yml, so what
marketing edits in the console is what visitors see (leadqual/http/embed.py)."""

from __future__ import annotations

import json

from leadqual.config.marketing import load_messages
from leadqual.http import embed


def test_the_served_teaser_is_the_published_flows():
    messages = load_messages()
    edited = messages.model_copy(deep=True)
    edited.responses["chat_teaser"] = type(messages.responses["chat_teaser"])(
        es="¿Te enseño los precios en un minuto?", en="Shall I show you our prices in a minute?"
    )
    served = embed.chat_js(embed.ASSETS["chat.js"], embed.widget_texts(edited)).decode()
    texts = {
        "es": {"teaser": "¿Te enseño los precios en un minuto?"},
        "en": {"teaser": "Shall I show you our prices in a minute?"},
    }
    assert "var SERVED = " + json.dumps(texts, ensure_ascii=False) + ";" in served
    assert embed.TEXTS_MARKER.decode() not in served
    # Without a published flow, config/messages.yml's teaser.
    shipped = embed.chat_js(embed.ASSETS["chat.js"]).decode()
    assert json.dumps(messages.responses["chat_teaser"].es, ensure_ascii=False)[1:-1] in shipped
