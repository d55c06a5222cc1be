"""Emails and phone numbers masked out of everything Rasa logs (issue 19, item 12).

Rasa logs what visitors type (and, on errors, the tracker); bin/run sends that to var/rasa.log.
A log-record factory masks each record's message and arguments as it is made, so every logger
and handler Rasa sets up later gets the masked text. Installed first thing by the launcher
(leadqual_rasa/serve.py) and again, harmlessly, by the chat channels Rasa imports."""

from __future__ import annotations

import logging

from leadqual.masking import mask

_installed = False


def _masked(value: object) -> object:
    return mask(value) if isinstance(value, str) else value


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    make = logging.getLogRecordFactory()

    def masking_record(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            record.msg = _masked(record.msg)
            if isinstance(record.args, tuple):
                record.args = tuple(_masked(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: _masked(v) for k, v in record.args.items()}
        except Exception:  # noqa: BLE001 - a log line must never fail because of the mask
            pass
        return record

    logging.setLogRecordFactory(masking_record)
