#!/usr/bin/env bash
# Builds the release `amibridge` with the Swift runtime and Foundation linked in statically
# (--static-swift-stdlib), so the target box needs no Swift toolchain: only libcurl, libmariadb
# and libsqlite3 from its own distribution (README "Install on a ViciDial box").
#
#   scripts/release.sh            build, strip a copy to dist/amibridge, print its size and ldd
#   scripts/release.sh --no-strip keep the symbols (bigger; backtraces name functions)
#
# Build on the oldest distribution you deploy to (glibc is linked dynamically and must be at least
# as new on the target as on the build machine).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

strip_binary=1
for argument in "$@"; do
    case $argument in
        --no-strip) strip_binary=0 ;;
        *) echo "usage: $0 [--no-strip]" >&2; exit 2 ;;
    esac
done

flags=(-c release --static-swift-stdlib --product amibridge)
swift build "${flags[@]}"
built="$(swift build "${flags[@]}" --show-bin-path)/amibridge"

mkdir -p dist
cp "$built" dist/amibridge
if [ "$strip_binary" -eq 1 ]; then
    strip dist/amibridge
fi

echo "dist/amibridge: $(du -h dist/amibridge | cut -f1) ($(stat -c %s dist/amibridge) bytes), $(dist/amibridge --help >/dev/null && echo runs)"
echo "linked dynamically (NEEDED; the Swift runtime and Foundation are inside):"
readelf -d dist/amibridge | sed -n 's/.*Shared library: \[\(.*\)\]/  \1/p'
newest() { objdump -T dist/amibridge | grep -o "$1[0-9.]*" | sort -uV | tail -1; }
echo "the target needs glibc with $(newest GLIBC_2.) and libstdc++ with $(newest GLIBCXX_3.) (build on the oldest target)"
echo "ldd (with what those pull in on this machine):"
ldd dist/amibridge
# Any Swift library still linked dynamically means the static runtime did not take.
if ldd dist/amibridge | grep -Eq 'libswift|libFoundation|libdispatch|libBlocksRuntime|lib_FoundationICU'; then
    echo "release.sh: a Swift runtime library is still linked dynamically" >&2
    exit 1
fi
