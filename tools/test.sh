#!/usr/bin/env bash
# The project's test command: installs missing prerequisites (Debian), then runs the same
# gates as CI: rustfmt, clippy (warnings are errors), and every test.
#
#   tools/test.sh            # locally: tests needing root/D-Bus tools print "skipped: …" if unavailable
#   CI=true tools/test.sh    # CI: a missing tool is a failure, never a silent skip
#
# The integration tests need root (they use `unshare -m` to give the stock systemctl a private
# /run/systemd) and Debian's dbus-daemon, dbus-send, systemctl and unshare.
set -euo pipefail
cd "$(dirname "$0")/.."

# Program -> Debian package providing it.
declare -A providers=(
    [dbus-daemon]=dbus-daemon
    [dbus-send]=dbus-bin
    [systemctl]=systemd
    [busctl]=systemd
    # src/spec/calendar tests compare with the stock `systemd-analyze calendar`.
    [systemd-analyze]=systemd
    [unshare]=util-linux
    [setpriv]=util-linux
    [python3]=python3
    [python3-dbus]=python3-dbus
    [pip]=python3-pip
    [venv]=python3-venv
    [python3-dev]=python3-dev
    [gcc]=gcc
    [pkg-config]=pkg-config
    [nsenter]=util-linux
    # tests/mount_units.rs: mount units run the stock mount/umount; names checked with
    # systemd-escape.
    [mount]=mount
    [umount]=mount
    [systemd-escape]=systemd
    [dbus-monitor]=dbus-bin
    [dbus-units]=dbus
    # tests/corpus.rs: loopback up in the service namespaces, syslog probe, apt for the corpus.
    [ip]=iproute2
    [logger]=bsdutils
    [apt-get]=apt
)
missing=()
for tool in "${!providers[@]}"; do
    if [ "$tool" = python3 ]; then
        [ -x /usr/bin/python3 ] || missing+=("${providers[$tool]}")
    elif [ "$tool" = python3-dbus ]; then
        /usr/bin/python3 -c 'import dbus' >/dev/null 2>&1 || missing+=("${providers[$tool]}")
    elif [ "$tool" = pip ]; then
        /usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing+=("${providers[$tool]}")
    elif [ "$tool" = venv ]; then
        # pystemd and Ansible tests build a venv with Debian's python3.
        /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=("${providers[$tool]}")
    elif [ "$tool" = dbus-units ]; then
        # tests/init_mode.rs boots the system bus from Debian's own dbus.socket/dbus.service.
        [ -f /lib/systemd/system/dbus.service ] && [ -f /lib/systemd/system/dbus.socket ] \
            || missing+=("${providers[$tool]}")
    elif [ "$tool" = python3-dev ]; then
        compgen -G '/usr/include/python3*/Python.h' >/dev/null || missing+=("${providers[$tool]}")
    else
        command -v "$tool" >/dev/null 2>&1 || missing+=("${providers[$tool]}")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "tools/test.sh: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        # Update the package lists only when the install fails without it (fresh images).
        apt-get install -y --no-install-recommends "${missing[@]}" \
            || { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
    else
        echo "tools/test.sh: missing packages: ${missing[*]} (install them as root: apt-get install ${missing[*]})" >&2
    fi
fi

for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        if command -v rustup >/dev/null 2>&1; then
            rustup component add "$component"
        else
            echo "tools/test.sh: cargo $component is missing" >&2
            exit 1
        fi
    fi
done

echo "==> cargo fmt --all --check" >&2
cargo fmt --all --check
echo "==> cargo clippy --all-targets --locked -- -D warnings" >&2
cargo clippy --all-targets --locked -- -D warnings
echo "==> cargo test --locked" >&2
# Doc tests first, then every other target, so the run closes on the real test binaries; the
# last line sums up all of them.
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cargo test --locked --doc 2>&1 | tee "$log"
cargo test --locked --lib --bins --tests 2>&1 | tee -a "$log"
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
