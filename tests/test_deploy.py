"""The production samples in deploy/ are well formed and agree with each other (none is run here:
no image may be downloaded; tests/production runs the topology itself on this machine)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
# The file without its comments (which mention ${VAR} too).
ENDPOINTS = "\n".join(line.split("#")[0] for line in (DEPLOY / "endpoints.production.yml").read_text().splitlines())
ENDPOINT_VARS = set(re.findall(r"\$\{(\w+)\}", ENDPOINTS))


def test_production_endpoints_take_every_setting_from_the_environment():
    endpoints = yaml.safe_load(ENDPOINTS)
    assert endpoints["tracker_store"]["type"] == "leadqual_rasa.stores.ResilientSQLTrackerStore"
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["lock_store"]["type"] == "leadqual_rasa.stores.AtomicRedisLockStore"
    for section in ("action_endpoint", "nlg", "tracker_store", "lock_store"):
        for key, value in endpoints[section].items():
            if key not in ("type", "dialect"):
                assert re.fullmatch(r"\$\{\w+\}", str(value)), f"{section}.{key} is not from the environment"
    # Rasa expands only unquoted values: a quoted "${VAR}" would reach Rasa as it is.
    assert not re.search(r"""["']\$\{""", ENDPOINTS)


def test_compose_file_has_the_whole_topology():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "rasa1", "rasa2", "actions1", "actions2", "console", "proxy"} <= set(services)
    for name in ("rasa1", "rasa2"):
        assert ENDPOINT_VARS <= set(services[name]["environment"]), name
        assert "deploy/endpoints.production.yml" in services[name]["command"]
    for name in ("actions1", "actions2", "console"):
        assert services[name]["environment"]["LEADQUAL_DATABASE_URL"].startswith("postgresql+psycopg://")
    for name in ("actions1", "actions2"):
        assert "/ready" in " ".join(services[name]["healthcheck"]["test"])
    mounted = [v.split(":")[0] for v in services["proxy"]["volumes"]]
    assert "./nginx.conf" in mounted and (DEPLOY / "nginx.conf").exists()
    assert (DEPLOY / "docker" / "create-rasa-db.sql").exists()


def test_proxy_keeps_a_browser_on_one_rasa_server():
    conf = (DEPLOY / "nginx.conf").read_text()
    rasa = re.search(r"upstream rasa \{(.*?)\}", conf, re.S).group(1)
    assert "ip_hash;" in rasa and rasa.count("server ") == 2
    assert "proxy_set_header Upgrade $http_upgrade;" in conf  # socket.io's WebSocket transport
    assert conf.count("{") == conf.count("}")


def test_procfile_and_systemd_units_run_every_server():
    procfile = {
        name: command
        for name, command in (
            line.split(":", 1) for line in (DEPLOY / "Procfile").read_text().splitlines() if line and line[0] != "#"
        )
    }
    assert {"rasa1", "rasa2", "actions1", "actions2", "console"} == set(procfile)
    assert all("$LEADQUAL_RASA_ENDPOINTS" in procfile[n] for n in ("rasa1", "rasa2"))
    units = sorted(p.name for p in (DEPLOY / "systemd").glob("*.service"))
    assert units == ["leadqual-actions@.service", "leadqual-console.service", "leadqual-rasa@.service"]
    for unit in units:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        parser.read(DEPLOY / "systemd" / unit)
        assert parser["Service"]["ExecStart"] and parser["Service"]["EnvironmentFile"]
        assert parser["Service"]["Restart"] == "always" and parser["Install"]["WantedBy"]


def test_env_example_names_every_variable():
    names = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines() if "=" in line[:60]}
    needed = ENDPOINT_VARS | {
        "LEADQUAL_DATABASE_URL",
        "RASA_AUTH_TOKEN",
        "LEADQUAL_SESSION_SECRET",
        "LEADQUAL_REST_TOKEN",
        "LEADQUAL_MODEL",
    }
    assert needed <= names
