# Shared helpers for labcam's scripts (sourced, not run).

# need_apt PKG...: install the Debian packages that are missing (quietly, once per run).
need_apt() {
    local missing=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
    echo "installing: ${missing[*]}"
    if [ -z "${LABCAM_APT_UPDATED:-}" ]; then
        $sudo apt-get update -qq
        export LABCAM_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The target directory cargo uses.
target_dir() {
    echo "${CARGO_TARGET_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target}"
}
