"""Add-ons that Rasa loads from deploy/endpoints.production.yml (they run in .venv-rasa)."""
