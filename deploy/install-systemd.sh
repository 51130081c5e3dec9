#!/usr/bin/env bash
# Installs the complaint monitor as a systemd service, run as root from a checkout of the project:
#
#   sudo deploy/install-systemd.sh            # install or upgrade, then start
#   deploy/install-systemd.sh --print-unit    # only print the unit it would install (PREFIX applied)
#
# It creates the system user, a virtualenv in PREFIX (default /opt/complaint-monitor) with the exact
# libraries of requirements.lock (hash-checked), /etc/complaint-monitor/config.yaml (the shipped example, kept
# if present) and /etc/complaint-monitor/env for secrets (mode 0600, kept if present), installs the unit and
# enables it. The state directory (/var/lib/complaint-monitor) is created by systemd (StateDirectory=).
set -euo pipefail

PREFIX="${PREFIX:-/opt/complaint-monitor}"
SERVICE_USER="${SERVICE_USER:-complaint-monitor}"
ETC=/etc/complaint-monitor
UNIT_DIR="${UNIT_DIR:-/etc/systemd/system}"
here="$(cd "$(dirname "$0")/.." && pwd)"

render_unit() {
  sed -e "s|/opt/complaint-monitor|${PREFIX}|g" \
      -e "s|^User=complaint-monitor$|User=${SERVICE_USER}|" \
      -e "s|^Group=complaint-monitor$|Group=${SERVICE_USER}|" \
      "$here/deploy/complaint-monitor.service"
}

if [ "${1:-}" = "--print-unit" ]; then
  render_unit
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "run as root (sudo $0)" >&2; exit 1; }
command -v systemctl >/dev/null || { echo "systemctl not found: this script is for systemd hosts" >&2; exit 1; }
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'

echo "==> user ${SERVICE_USER}"
id -u "$SERVICE_USER" >/dev/null 2>&1 || \
  useradd --system --user-group --home-dir /var/lib/complaint-monitor --shell /usr/sbin/nologin "$SERVICE_USER"

echo "==> virtualenv in ${PREFIX} from requirements.lock"
python3 -m venv "$PREFIX/.venv"
"$PREFIX/.venv/bin/python" -m pip install --quiet --upgrade pip
"$PREFIX/.venv/bin/python" -m pip install --quiet --require-hashes -r "$here/requirements.lock"
"$PREFIX/.venv/bin/python" -m pip install --quiet --no-deps "$here"

echo "==> ${ETC}"
install -d -m 0750 -o root -g "$SERVICE_USER" "$ETC"
[ -e "$ETC/config.yaml" ] || install -m 0640 -o root -g "$SERVICE_USER" "$here/config.yaml" "$ETC/config.yaml"
if [ ! -e "$ETC/env" ]; then
  install -m 0600 -o root -g root /dev/null "$ETC/env"
  echo "# Secrets for ${ETC}/config.yaml, one NAME=value a line (e.g. SLACK_BOT_TOKEN=xoxb-...)." > "$ETC/env"
fi

echo "==> unit"
render_unit > "$UNIT_DIR/complaint-monitor.service"
systemctl daemon-reload
(set -a; . "$ETC/env"; set +a; cd /tmp && "$PREFIX/.venv/bin/monitor" --config "$ETC/config.yaml" check-config \
  >/dev/null) || { echo "fix ${ETC}/config.yaml (monitor --config ${ETC}/config.yaml check-config), then: systemctl enable --now complaint-monitor" >&2; exit 1; }
systemctl enable --now complaint-monitor
systemctl --no-pager status complaint-monitor | head -n 5
