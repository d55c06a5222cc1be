# Rasa 3.6.21 (Python 3.10) with the repository's add-ons (leadqual_rasa/) and a trained model.
# Build from the repository root after bin/train: docker compose -f deploy/docker-compose.yml build
FROM python:3.10-slim
WORKDIR /opt/leadqual
COPY requirements/rasa.lock requirements/rasa.lock
RUN pip install --no-cache-dir "pip<25" && pip install --no-cache-dir -r requirements/rasa.lock
COPY credentials.yml ./
COPY deploy/endpoints.production.yml deploy/
COPY leadqual_rasa/ leadqual_rasa/
COPY models/ models/
ENV RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1
USER nobody
EXPOSE 5005
