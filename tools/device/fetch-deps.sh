#!/usr/bin/env bash
# Downloads (here, where Debian's apt is reachable) the .deb files that the GPU machine's image lacks
# for building sdzero, into .deps/debs (ignored by git; `device` carries it). check.sh unpacks them
# with dpkg -x into a private prefix, never into /. What the GPU image lacked when this was written
# (Ubuntu 24.04 there; its OpenMPI 4.1, HDF5 1.10, Boost 1.83 headers, GoogleTest and nlohmann_json
# are used as they are):
#   - Boost.Program_options (no library at all): Debian's 1.74 static library with its own 1.74 headers
#   - the PCRE2 headers (the runtime library is there, the same 10.42 as Debian's)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/.deps/debs"
grep -qx '/.deps/' "$root/.git/info/exclude" 2>/dev/null || echo '/.deps/' >> "$root/.git/info/exclude"
cd "$root/.deps/debs"
apt-get download libboost1.74-dev libboost-program-options1.74-dev libboost-program-options1.74.0 libpcre2-dev >/dev/null
ls -la
du -sh .
