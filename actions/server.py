"""The action server, plus the NLG endpoint that renders every reply from config/messages.yml.

One process (default port 5055): POST /webhook runs custom actions for Rasa, POST /nlg
renders utter_* responses in the visitor's language, POST /v1/{track,page,identify,batch} is
the tracking intake (GET /v1/openapi.json describes it), GET /embed/{track,chat,webchat}.js are
what a website embeds, GET /health answers for probes, GET /ready when the database is usable and
GET /metrics for Prometheus (leadqual/http/observability.py).
Run: python -m actions.server --port 5055
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import response

from leadqual import settings
from leadqual.config.marketing import ConfigError, messages, qualification


def build_app():
    # Fail at start-up, naming the field, if marketing's files are invalid.
    qualification()
    messages()
    from leadqual.understanding import parsing

    warm_up = getattr(parsing, "warm_up", None)
    if warm_up:
        warm_up()

    executor = ThreadedActionExecutor()
    executor.register_package("actions")
    # Allowed browser origins: space- or comma-separated (e.g. the company's website).
    origins = settings.CORS_ORIGINS.get().replace(",", " ").split()
    token = action_token()
    app = create_app(executor, cors_origins=origins or "")
    from actions.actions import base_store, current_store, flows, spool
    from leadqual.conversation import analytics
    from leadqual.http import observability
    from leadqual.http.embed import embed_blueprint
    from leadqual.http.intake import tracking_blueprint

    # Events are scored with the newest published flow.
    app.blueprint(tracking_blueprint(current_store, lambda: flows().current().config))
    # chat.js shows the newest published flow's teaser (marketing edits it in the console).
    app.blueprint(embed_blueprint(lambda: flows().current()))
    # POST /crm/hubspot/webhook: changes salespeople make in HubSpot (leadqual/http/crm_webhooks.py).
    from leadqual.http.crm_webhooks import crm_blueprint

    app.blueprint(crm_blueprint(base_store, lambda: _crm_connector() if _crm_system() == "hubspot" else None))
    # GET /ready, GET /metrics, and timing of actions, NLG and intake calls (leadqual/http/observability.py).
    observability.install(app, engine=lambda: base_store().engine, spool=spool)

    @app.post("/nlg")
    async def nlg(request):
        body = request.json
        if not isinstance(body, dict) or not isinstance(body.get("response"), str):
            return response.json({"error": "body must be a JSON object with a 'response' name"}, status=400)
        problem = nlg_body_problem(body)
        if problem:
            field, message = problem
            return response.json({"error": f"{field} {message}", "field": field}, status=400)
        tracker = body.get("tracker") or {}
        slots = tracker.get("slots") or {}
        try:
            flow = await asyncio.to_thread(flows().resolve, slots.get("flow_version"))
            texts = flow.texts
            explained = body["response"] == "utter_why" and slots.get("requested_slot")
            if explained and flow.draft_id is None and tracker.get("sender_id"):
                await asyncio.to_thread(
                    analytics.record,
                    base_store().engine,
                    str(tracker["sender_id"]),
                    flow.version,
                    str(slots.get("language") or "es"),
                    str(slots["requested_slot"]),
                    "explained",
                )
            if body["response"] == "utter_start_qualification" and slots.get("qualification"):
                # A buying message after the result: the questions are done (action_submit_qualification).
                body = {**body, "response": "utter_already_qualified"}
            return response.json(texts.render_nlg(body))
        except KeyError as exc:
            return response.json({"error": str(exc)}, status=404)

    protect_rasa_routes(app, token)

    @app.after_server_start
    async def retry_failed_saves(app, _loop=None):
        app.add_task(_retry_spool_forever())
        app.add_task(_deliver_handoffs_forever())
        if _crm_system() == "salesforce":
            app.add_task(_poll_salesforce_forever())

    return app


# What the NLG handler reads from Rasa's request, and the JSON types it accepts (None = absent).
NLG_OBJECTS = ("tracker", "tracker.slots", "arguments")
NLG_SLOTS = {"language": (str,), "requested_slot": (str,), "flow_version": (str, int, float)}


def nlg_body_problem(body: dict) -> tuple[str, str] | None:
    """(field, what is wrong) for an NLG request the handler cannot read, e.g. a tracker that is not
    a JSON object; None when it is fine. Answered 400 naming the field, never a 500."""
    tracker = body.get("tracker")
    values = {"tracker": tracker, "arguments": body.get("arguments")}
    values["tracker.slots"] = tracker.get("slots") if isinstance(tracker, dict) else None
    for field in NLG_OBJECTS:
        if values[field] is not None and not isinstance(values[field], dict):
            return field, "must be a JSON object"
    slots = values["tracker.slots"] or {}
    for name, kinds in NLG_SLOTS.items():
        value = slots.get(name)
        if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            return f"tracker.slots.{name}", "has the wrong type"
    if isinstance(tracker, dict) and not isinstance(tracker.get("sender_id"), (str, int, type(None))):
        return "tracker.sender_id", "must be a string"
    return None


class ThreadedActionExecutor(ActionExecutor):
    """Runs each action call in a worker thread with an event loop of its own. The actions call
    the database synchronously (SQLAlchemy); on the server's loop one slow call (a locked table,
    a PostgreSQL failover) froze every other conversation, the intake and /embed/*.js with it.
    LEADQUAL_ACTION_THREADS (default 16) calls run at once; more wait for a thread."""

    def __init__(self) -> None:
        super().__init__()
        from concurrent.futures import ThreadPoolExecutor

        threads = int(settings.ACTION_THREADS.get())
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="action")

    async def run(self, action_call, sink=None, dispatcher=None):
        if sink is not None:  # a streaming transport (Rasa 3.6 never uses one): on the loop
            return await super().run(action_call, sink, dispatcher)
        run = super().run
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: asyncio.run(run(action_call, None, dispatcher)))


# Routes only Rasa calls: they carry whole conversations, so they need the shared secret.
RASA_ROUTES = ("/webhook", "/nlg")
MIN_TOKEN_LENGTH = 16


class MissingToken(SystemExit):
    """The action server will not start without the secret Rasa sends it."""


def action_token() -> str:
    token = settings.ACTION_TOKEN.get()
    if len(token) < MIN_TOKEN_LENGTH:
        raise MissingToken(
            f"LEADQUAL_ACTION_TOKEN must be set to a secret of at least {MIN_TOKEN_LENGTH} characters "
            "(the `token:` of action_endpoint and nlg in Rasa's endpoints file); bin/run generates one "
            "into var/secrets.env. Without it anyone could run actions with a forged conversation."
        )
    return token


def rasa_route(path: str) -> bool:
    """True for any spelling of a Rasa-only route: `/webhook/`, `//webhook`, `/WebHook`,
    `/%77ebhook`... A proxy or router may normalise these differently from this check."""
    from urllib.parse import unquote

    decoded = path
    for _ in range(3):  # double-encoded spellings too
        decoded = unquote(decoded)
    canonical = "/" + "/".join(part for part in decoded.lower().split("/") if part not in ("", "."))
    return any(canonical == route or canonical.startswith(route + "/") for route in RASA_ROUTES)


def protect_rasa_routes(app, token: str) -> None:
    """Rasa sends LEADQUAL_ACTION_TOKEN as `?token=` (endpoints.yml `token:`); without it the
    action and NLG routes answer 401. Checked twice: by a request middleware on every path that
    spells a Rasa route in any way, and inside the handlers themselves, so no routing quirk
    (trailing or double slash, case, percent-encoding) reaches an action without the secret.
    Errors never echo the request: rasa-sdk's own 500 handler returns the whole tracker it was
    sent, so it is replaced by one that logs the error under an id and returns only that id."""
    import functools
    import hmac
    import uuid

    def authorized(request) -> bool:
        given = request.args.get("token") or ""
        return hmac.compare_digest(given.encode(), token.encode())

    def denied():
        return response.json({"error": "missing or wrong token"}, status=401)

    @app.on_request
    async def require_token(request):
        if rasa_route(request.path) and not authorized(request):
            return denied()
        return None

    def guarded(handler):
        @functools.wraps(handler)
        async def check_then_handle(request, *args, **kwargs):
            if not authorized(request):
                return denied()
            return await handler(request, *args, **kwargs)

        return check_then_handle

    guarded_routes = 0
    for route in app.router.routes:
        if rasa_route("/" + route.path):
            route.handler = guarded(route.handler)
            guarded_routes += 1
    if guarded_routes < len(RASA_ROUTES):
        raise RuntimeError("the action and NLG routes must be registered before they are protected")

    async def safe_error(request, exception):
        status = getattr(exception, "status_code", 500)
        if status < 500:
            return response.json({"error": str(exception)[:200]}, status=status)
        error_id = uuid.uuid4().hex[:12]
        logging.getLogger(__name__).error("error %s on %s", error_id, request.path, exc_info=exception)
        return response.json({"error": "internal error", "error_id": error_id}, status=500)

    # Replaces rasa-sdk's handler for every route (Sanic refuses a second one for the same key).
    app.error_handler.cached_handlers.pop((Exception, None), None)
    app.error_handler.add(Exception, safe_error)


async def _retry_spool_forever() -> None:
    """Writes answers whose save failed, even if the visitor never sends another message."""
    import asyncio

    from actions.actions import current_store, spool

    interval = float(settings.SPOOL_RETRY_SECONDS.get())
    while True:
        await asyncio.sleep(interval)
        try:
            if spool().pending():
                saved = spool().drain(current_store().save_conversation)
                if saved:
                    logging.getLogger(__name__).info("wrote %d spooled conversation(s) to the database", saved)
        except Exception:  # noqa: BLE001 - the loop must survive anything
            logging.getLogger(__name__).exception("spool retry failed")


_CONNECTOR: list = []


def _crm_system() -> str | None:
    from leadqual.delivery import crm

    return crm.configured_system()


def _crm_connector():
    """The native CRM connector of this process (LEADQUAL_CRM_DESTINATION), built once: the
    delivery loop, the HubSpot webhook and the Salesforce poll share its caches."""
    if not _CONNECTOR:
        from actions.actions import base_store
        from leadqual.console.explain import Explainer
        from leadqual.delivery import connectors

        store = base_store()

        def explain(packet) -> list[str]:
            lang = (packet.get("contact") or {}).get("language") or "es"
            explainer = Explainer(lang, store.config)
            return [explainer.line(line) for line in packet.get("score_breakdown") or []]

        _CONNECTOR.append(connectors.from_env(store.engine, store.config, explain))
    return _CONNECTOR[0]


async def _poll_salesforce_forever() -> None:
    """Reads the Leads salespeople changed in Salesforce (every LEADQUAL_SALESFORCE_POLL_SECONDS)."""
    import asyncio

    from actions.actions import base_store
    from leadqual.leads import crm_sync

    interval = float(settings.SALESFORCE_POLL_SECONDS.get())
    while True:
        await asyncio.sleep(interval)
        try:
            applied = await asyncio.to_thread(crm_sync.poll_salesforce, base_store(), _crm_connector())
            changed = [a for a in applied if a.outcome not in ("unchanged", "replay", "unknown")]
            if changed:
                logging.getLogger(__name__).info("salesforce changes applied: %s", [a.outcome for a in changed])
        except Exception:  # noqa: BLE001 - the loop must survive anything
            logging.getLogger(__name__).exception("salesforce poll failed")


async def _deliver_handoffs_forever() -> None:
    """Sends queued handoff packets to the CRM (or var/handoff-crm.jsonl without one), with retries.
    Any number of action servers may run this: each message is claimed by one at a time."""
    import asyncio

    from actions.actions import base_store
    from leadqual.delivery.outbox import DeliveryWorker, Destinations

    interval = float(settings.DELIVERY_SECONDS.get())
    destinations = Destinations.from_env()
    if _crm_system() is not None:
        try:
            destinations = destinations.with_connector("crm", _crm_connector())
        except Exception:  # noqa: BLE001 - bad credentials: deliveries wait, the chat goes on
            logging.getLogger(__name__).exception("the CRM connector cannot start; CRM deliveries wait")
    worker = DeliveryWorker(base_store(), destinations)
    while True:
        await asyncio.sleep(interval)
        try:
            figures = await asyncio.to_thread(worker.run_once)
            if figures["claimed"]:
                logging.getLogger(__name__).info("handoff delivery: %s", figures)
        except Exception:  # noqa: BLE001 - the loop must survive anything
            logging.getLogger(__name__).exception("handoff delivery failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(settings.ACTIONS_PORT.get()))
    parser.add_argument("--host", default=settings.ACTIONS_HOST.get())
    args = parser.parse_args()
    from leadqual.http.observability import adopt_library_loggers, configure_logging

    configure_logging("actions")  # LEADQUAL_LOG_FORMAT=json for JSON lines; personal data masked
    try:
        app = build_app()
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None
    adopt_library_loggers()
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
