# Shared by bin/run, bin/test and bin/train: find Pythons, build both environments.
# shellcheck shell=bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RASA_VENV="$ROOT/.venv-rasa"
APP_VENV="$ROOT/.venv"
UV_VENV="$ROOT/.venv-uv"
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

find_python310() {
  local candidate
  for candidate in "${LEADQUAL_PYTHON310:-}" python3.10; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
       && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    for candidate in "$(pyenv root)"/versions/3.10*/bin/python3.10; do
      if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
    done
  fi
  cat >&2 <<'MSG'
Rasa Open Source 3.6.21 needs Python 3.10 and none was found (looked at $LEADQUAL_PYTHON310,
python3.10 on PATH and pyenv's versions).
Install one, then run this command again:
  - with pyenv:   pyenv install 3.10      (or point LEADQUAL_PYTHON310 at any python3.10)
  - on Debian/Ubuntu with deadsnakes or your distribution: apt-get install python3.10 python3.10-venv
See ../shared/notes/rasa-install.md for a tested fallback on Python 3.11.
MSG
  return 1
}

# venv_ready DIR LOCK: true when DIR was built from exactly this LOCK.
venv_ready() {
  [ -x "$1/bin/python" ] && [ -f "$1/.lock.sha256" ] && \
    [ "$(cat "$1/.lock.sha256")" = "$(sha256sum "$2" | cut -d' ' -f1)" ]
}

# uv (requirements/tools.lock, in .venv-uv/) installs the two locked environments several times faster
# than pip: one download and unpack cache for every checkout on the machine, files linked from it.
# Where uv cannot be installed (no index, an odd platform), pip does the same job, only slower.
ensure_uv() { ( umask "$SHARED_UMASK"; _ensure_uv ) >/dev/null 2>&1 || true; }
_ensure_uv() {
  local lock="$ROOT/requirements/tools.lock"
  venv_ready "$UV_VENV" "$lock" && return 0
  rm -rf "$UV_VENV"
  "${LEADQUAL_PYTHON:-python3}" -m venv "$UV_VENV" && "$UV_VENV/bin/pip" install -q -r "$lock" \
    && sha256sum "$lock" | cut -d' ' -f1 > "$UV_VENV/.lock.sha256"
}

# locked_install VENV LOCK PIP: every package of LOCK, exactly those versions, into VENV; with pip
# (first upgraded to the PIP requirement) when uv is not there.
locked_install() {
  if [ -x "$UV_VENV/bin/uv" ] && venv_ready "$UV_VENV" "$ROOT/requirements/tools.lock"; then
    "$UV_VENV/bin/uv" pip install -q --python "$1/bin/python" -r "$2" && return 0
    log "uv could not install $(basename "$2"); installing it with pip instead"
  fi
  "$1/bin/pip" install -q --upgrade "$3" 2> >(grep -v "^WARNING: Location" >&2)
  # --no-compile: Python compiles what is imported when it is first imported, not every module of
  # every package now (a minute of CPU at install, most of it TensorFlow's).
  "$1/bin/pip" install -q --no-compile -r "$2" 2> >(grep -v "^WARNING: Location" >&2)
}

# ensure_*_env install uv first; ensure_envs installs it once, then both environments side by side
# (install_*_env), so two installs never build .venv-uv at the same time.
ensure_rasa_env() { ensure_uv; install_rasa_env; }
install_rasa_env() { ( umask "$SHARED_UMASK"; _ensure_rasa_env ); }
_ensure_rasa_env() {
  local lock="$ROOT/requirements/rasa.lock"
  venv_ready "$RASA_VENV" "$lock" && { rasa_sees_repo; return 0; }
  local py; py="$(find_python310)"
  log "Installing Rasa 3.6.21 into .venv-rasa (Python 3.10: $py); takes a few minutes the first time"
  rm -rf "$RASA_VENV"
  "$py" -m venv "$RASA_VENV"
  locked_install "$RASA_VENV" "$lock" "pip<25"
  "$RASA_VENV/bin/rasa" telemetry disable >/dev/null 2>&1 || true
  sha256sum "$lock" | cut -d' ' -f1 > "$RASA_VENV/.lock.sha256"
  rasa_sees_repo
}

# Rasa loads the signed socket.io channel (leadqual_rasa/channels.py, named in credentials.yml)
# from this checkout, whatever directory it is started in.
rasa_sees_repo() {
  local site; site="$(echo "$RASA_VENV"/lib/python3.*/site-packages)"
  [ "$(cat "$site/leadqual-repo.pth" 2>/dev/null)" = "$ROOT" ] || echo "$ROOT" > "$site/leadqual-repo.pth"
}

ensure_app_env() { ensure_uv; install_app_env; }
install_app_env() { ( umask "$SHARED_UMASK"; _ensure_app_env ); }
_ensure_app_env() {
  local lock="$ROOT/requirements/app.lock"
  venv_ready "$APP_VENV" "$lock" && return 0
  local py="${LEADQUAL_PYTHON:-python3}"
  "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || {
    echo "The action server needs Python 3.10 or newer as \$LEADQUAL_PYTHON or python3." >&2; return 1; }
  log "Installing the action server's libraries into .venv ($("$py" --version))"
  rm -rf "$APP_VENV"
  "$py" -m venv "$APP_VENV"
  locked_install "$APP_VENV" "$lock" pip
  sha256sum "$lock" | cut -d' ' -f1 > "$APP_VENV/.lock.sha256"
}

# Both environments at once (bin/run, bin/test): one's downloads overlap the other's builds.
ensure_envs() {
  local rasa_status=0
  ensure_uv  # once, before the two installs run side by side
  install_rasa_env &
  local rasa_pid=$!
  install_app_env || { wait "$rasa_pid" || true; return 1; }
  wait "$rasa_pid" || rasa_status=$?
  return "$rasa_status"
}

# The chat widget the product serves (rasa-webchat, pinned in web/package-lock.json): installed
# with npm ci, again only when the lock changes. Nothing is fetched when a page is viewed.
ensure_web_assets() { ( umask "$SHARED_UMASK"; _ensure_web_assets ); }
_ensure_web_assets() {
  local lock="$ROOT/web/package-lock.json" stamp="$ROOT/web/node_modules/.lock.sha256"
  if [ -f "$ROOT/web/node_modules/rasa-webchat/lib/index.js" ] && [ -f "$stamp" ] && \
     [ "$(cat "$stamp")" = "$(sha256sum "$lock" | cut -d' ' -f1)" ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 || {
    echo "The website's chat widget needs Node.js and npm (npm ci in web/); install them, e.g. apt-get install nodejs npm." >&2
    return 1; }
  log "Installing the chat widget (rasa-webchat) into web/node_modules"
  (cd "$ROOT/web" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) 2> >(grep -v 'Unknown user config' >&2)
  sha256sum "$lock" | cut -d' ' -f1 > "$stamp"
}

# Debian's Chromium for the browser tests (never a browser downloaded by a test tool). Installed
# when missing and apt-get can run as root; otherwise the browser tests skip, saying why.
ensure_chromium() { ( umask "$SHARED_UMASK"; _ensure_chromium ); }
_ensure_chromium() {
  [ -x "${LEADQUAL_CHROMIUM:-/usr/bin/chromium}" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "Installing Debian's chromium for the browser tests"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >"$ROOT/var/apt-chromium.log" 2>&1 \
      || log "Could not install chromium (see var/apt-chromium.log); the browser tests will be skipped"
  else
    log "No /usr/bin/chromium and no root apt-get: the browser tests will be skipped"
  fi
  return 0
}

# The model's name is a hash of everything it is trained from, so training runs only
# when config.yml, domain.yml or data/ changed.
model_fingerprint() {
  cat config.yml domain.yml $(find data -type f -name '*.yml' | sort) requirements/rasa.lock | sha256sum | cut -c1-16
}

ensure_model() {
  local fp; fp="$(model_fingerprint)"
  MODEL="$ROOT/models/nubilo-$fp.tar.gz"
  if [ -f "$MODEL" ]; then
    log "Model is up to date ($(basename "$MODEL"))"
  else
    log "Training the model (training data, domain or config changed)"
    ( umask "$SHARED_UMASK"
      "$RASA_VENV/bin/rasa" train --config config.yml --domain domain.yml --data data \
        --out models --fixed-model-name "nubilo-$fp" ) >"$ROOT/var/train.log" 2>&1 \
      || { tail -40 "$ROOT/var/train.log" >&2; echo "Training failed; full log: var/train.log" >&2; return 1; }
  fi
  export MODEL
}

mkdir -p "$ROOT/var" "$ROOT/models"
# What the product writes from here on (var/leads.db, var/handoff-*.jsonl, the spool, var/secrets.env,
# the servers' logs) is readable by the user running it only: it holds visitors' personal data and
# secrets. What is built for every user of the checkout (the two environments, the model, the chat
# widget: a systemd unit may run as another user) keeps the caller's umask (the ensure_* above).
SHARED_UMASK="$(umask)"
umask 077
for private in "$ROOT"/var/secrets.env "$ROOT"/var/leads.db* "$ROOT"/var/handoff-*.jsonl "$ROOT"/var/pending-saves.jsonl* \
               "$ROOT"/var/*.log; do
  # Made by an earlier version, or by hand: made private too (not failing on another user's file).
  if [ -f "$private" ]; then chmod go-rwx "$private" 2>/dev/null || true; fi
done
