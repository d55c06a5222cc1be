"""The configured native CRM connector (LEADQUAL_CRM_DESTINATION), built from the deployment's
settings: whoever runs the delivery worker (the action server, `bin/leads crm ...`) calls
`from_env` and hands the result to `Destinations.with_connector("crm", ...)`."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from leadqual import settings
from leadqual.config.marketing import QualificationConfig
from leadqual.delivery import crm
from leadqual.delivery.crm_fields import Explain
from leadqual.delivery.hubspot import DEFAULT_RATE, HubSpotClient, HubSpotSync
from leadqual.delivery.ratebudget import RateBudget


def hubspot(
    engine: Engine | None,
    config: QualificationConfig,
    explain: Explain | None = None,
    environ: Mapping[str, str] | None = None,
    rate: tuple[int, float] = DEFAULT_RATE,
) -> HubSpotSync:
    client = HubSpotClient(
        crm.hubspot_token(environ),
        settings.HUBSPOT_API_URL.get(environ=environ),
        session=crm.http_session(environ),
        budget=RateBudget(engine, "hubspot", *rate),
    )
    return HubSpotSync(client, config, explain, portal_url=settings.HUBSPOT_PORTAL_URL.get(environ=environ))


def from_env(
    engine: Engine | None,
    config: QualificationConfig,
    explain: Explain | None = None,
    environ: Mapping[str, str] | None = None,
) -> crm.Connector | None:
    """The connector LEADQUAL_CRM_DESTINATION names, or None for the generic webhook."""
    system = crm.configured_system(environ)
    if system == "hubspot":
        return hubspot(engine, config, explain, environ)
    if system == "salesforce":
        from leadqual.delivery import salesforce  # noqa: PLC0415 - only where Salesforce is used

        return salesforce.from_env(engine, config, explain, environ)
    return None
