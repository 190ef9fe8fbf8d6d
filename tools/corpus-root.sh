#!/bin/sh
# Install Debian packages into a cached overlay of the host's /usr, /etc and /var, never
# writing the host: tests/corpus.rs boots `unitd init` over the result.
#
#   tools/corpus-root.sh CACHE PACKAGE...
#
# CACHE/upper/{usr,etc,var} collect what apt-get and the packages' maintainer scripts write
# (the overlays' upper layers, kept between runs as a cache); the host's directories are the
# read-only lower layers. Everything runs in private mount and PID namespaces with a fresh
# tmpfs on /run and /tmp: no /run/systemd/system, so the maintainer scripts do not talk to an
# init, and a policy-rc.d that exits 101 forbids invoke-rc.d to start anything; whatever a
# script might still leave running dies with the PID namespace.
#
# Exit status: 0 installed (or already installed), 2 apt could not fetch the packages (no
# network or mirror), anything else: a real failure.
set -eu
cache=$1
shift
for d in usr etc var; do
    mkdir -p "$cache/upper/$d" "$cache/work/$d"
done
exec unshare --mount --pid --fork --mount-proc --propagation private /bin/sh -c '
    set -eu
    cache=$1
    shift
    for d in usr etc var; do
        mount -t overlay overlay \
            -o "lowerdir=/$d,upperdir=$cache/upper/$d,workdir=$cache/work/$d" "/$d"
    done
    mount -t tmpfs -o mode=755 tmpfs /run
    mount -t tmpfs -o mode=1777 tmpfs /tmp
    printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
        apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 "$@"
    }
    if ! apt_install "$@"; then
        # Stale or missing package lists (a fresh image): refresh them, in the overlay only.
        apt-get update -o Acquire::Retries=2 || exit 2
        apt_install --download-only "$@" || exit 2
        apt_install "$@"
    fi
' sh "$cache" "$@"
