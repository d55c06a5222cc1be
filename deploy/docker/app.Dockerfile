# The action server and the console (Python 3.11, requirements/app.lock) with the repository's code.
FROM python:3.11-slim
WORKDIR /opt/leadqual
COPY requirements/app.lock requirements/app.lock
RUN pip install --no-cache-dir -r requirements/app.lock
COPY actions/ actions/
COPY leadqual/ leadqual/
COPY config/ config/
COPY web/ web/
RUN mkdir -p var && chown nobody var
USER nobody
EXPOSE 5055 8090
