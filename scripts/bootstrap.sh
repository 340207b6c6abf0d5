# shellcheck shell=bash
# Sourced by ./sair and scripts/lock.sh: finds Python 3.10 and keeps .venv/ in step with
# requirements.lock and setup.py. Creates or refreshes the venv only when they changed.

sair_python_ok() {
  "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1
}

sair_find_python310() {
  local candidates=()
  [ -n "${SAIR_PYTHON:-}" ] && candidates+=("$SAIR_PYTHON")
  candidates+=(python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    local proot
    proot="$(pyenv root 2>/dev/null || true)"
    if [ -n "$proot" ]; then
      # Newest 3.10.x first; a bare `python3.10` is often a pyenv shim that refuses to run.
      while IFS= read -r p; do candidates+=("$p"); done \
        < <(ls -d "$proot"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV)
    fi
  fi
  candidates+=(/usr/local/bin/python3.10 /usr/bin/python3.10)
  local c
  for c in "${candidates[@]}"; do
    if sair_python_ok "$c"; then
      command -v "$c" 2>/dev/null || echo "$c"
      return 0
    fi
  done
  cat >&2 <<'MSG'
error: Python 3.10 with the venv module was not found (TFX 1.16 supports Python 3.9-3.10 only).
Install it, then run this command again. Any one of:
  pyenv install 3.10.13
  apt-get install python3.10 python3.10-venv      (where your distribution has it)
  or set SAIR_PYTHON=/path/to/python3.10
MSG
  return 1
}

# Ensure $SAIR_ROOT/.venv exists with the pinned requirements and the project installed;
# sets SAIR_VENV_PY to its interpreter.
sair_ensure_venv() {
  local root="$1" venv="$1/.venv" stamp want
  want="$(cat "$root/requirements.lock" "$root/setup.py" | sha256sum | cut -d' ' -f1)"
  stamp="$venv/.sair-requirements.sha256"
  SAIR_VENV_PY="$venv/bin/python"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && sair_python_ok "$SAIR_VENV_PY"; then
    return 0
  fi
  local py
  py="$(sair_find_python310)" || return 1
  if ! sair_python_ok "$SAIR_VENV_PY"; then
    echo "sair: creating $venv with $py" >&2
    rm -rf "$venv"
    "$py" -m venv "$venv" || return 1
  fi
  echo "sair: installing pinned requirements into $venv (first time: about 4 minutes)" >&2
  # The environment takes about 3.3 GB (README); pip's own error on a full disk names no size.
  local free_kb
  free_kb="$(df -Pk "$root" 2>/dev/null | awk 'NR == 2 {print $4}')" || free_kb=""
  if [[ "$free_kb" =~ ^[0-9]+$ ]] && [ "$free_kb" -lt 3800000 ]; then
    echo "sair: warning: $((free_kb / 1024)) MB free where $venv goes; it needs about 3.3 GB" >&2
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip || return 1
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/requirements.lock" || return 1
  # compat mode writes a .pth file, so Beam worker processes import the project too.
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
    --config-settings editable_mode=compat -e "$root" || return 1
  echo "$want" > "$stamp"
}
