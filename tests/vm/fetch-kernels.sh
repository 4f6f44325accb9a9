#!/bin/bash
# Fetch Debian's real kernels and their matching headers into the build
# directory, without installing anything on the host:
#   6.1  from bookworm            (no multi-size THP)
#   6.12 from bookworm-backports  (multi-size THP)
# A private apt state under $BUILD/apt adds bookworm-backports from the same
# mirror the host's apt already uses.  Versions are resolved from the
# metapackages linux-image-amd64 / linux-headers-amd64 of each suite.
#
# Result, per kernel release KVER:
#   $BUILD/kernels/KVER/vmlinuz         bootable image
#   $BUILD/kernels/KVER/root/           image + headers + kbuild unpacked
#   $BUILD/kernels/KVER/kdir            symlink: headers dir to build against
#   $BUILD/kernels/<series>             symlink: 6.1 / 6.12 -> KVER
set -euo pipefail

BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"   # fpt_mirror
APT=$BUILD/apt
mkdir -p "$APT/state/lists/partial" "$APT/cache/archives/partial" "$APT/etc" "$BUILD/kernels"

M=$(fpt_mirror)
KEY=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$APT/etc/sources.list" <<SRC
deb [signed-by=$KEY] $M bookworm main
deb [signed-by=$KEY] $M bookworm-backports main
SRC
APTOPT=(-o Dir::Etc::SourceList="$APT/etc/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State="$APT/state" -o Dir::State::status=/var/lib/dpkg/status
	-o Dir::Cache="$APT/cache" -o Debug::NoLocking=1 -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)

stamp=$APT/updated
if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
	apt-get "${APTOPT[@]}" -qq update
	touch "$stamp"
fi

# candidate version of package $1 in suite $2
version_in() {
	apt-cache "${APTOPT[@]}" madison "$1" | awk -v s="$2" '$0 ~ " "s"/main" { print $3; exit }'
}

# The flavour headers' Makefile is one line, "include /usr/src/linux-headers-
# KVER-common/Makefile": an absolute path that only exists when the package is
# installed.  Point it at the unpacked sibling, relative to the Makefile's own
# location so the tree still works if build/ moves.  Idempotent.
relocate_headers() {
	local mk=$1
	grep -q '^include /usr/src/' "$mk" || return 0
	# shellcheck disable=SC2016 # $(...) is make syntax, written literally
	sed -i 's|^include /usr/src/|include $(dir $(realpath $(lastword $(MAKEFILE_LIST))))../|' "$mk"
}

# fetch <series> <suite>
fetch() {
	local series=$1 suite=$2 ver dep kver dir pkgs p
	ver=$(version_in linux-image-amd64 "$suite")
	[ -n "$ver" ] || { echo "fetch-kernels: no linux-image-amd64 in $suite" >&2; exit 1; }
	dep=$(apt-cache "${APTOPT[@]}" show "linux-image-amd64=$ver" | awk -F': ' '/^Depends:/ { print $2; exit }')
	# "linux-image-6.1.0-41-amd64 (= ...)" or "linux-image-6.12.57+deb12-amd64 (...)"
	kver=$(echo "$dep" | grep -o 'linux-image-[0-9][^ ,]*-amd64' | head -n1 | sed 's/^linux-image-//')
	dir=$BUILD/kernels/$kver
	if [ ! -e "$dir/.done" ]; then
		echo "fetch-kernels: $series -> $kver ($suite)"
		rm -rf "$dir"; mkdir -p "$dir/debs" "$dir/root"
		# image (unsigned: no shim needed), headers, common headers, kbuild
		pkgs="linux-image-$kver-unsigned linux-headers-$kver"
		for p in $(apt-cache "${APTOPT[@]}" show "linux-headers-$kver" | awk -F': ' '/^Depends:/ { print $2; exit }' |
			   tr ',' '\n' | grep -o 'linux-\(headers\|kbuild\)-[^ ]*'); do
			pkgs="$pkgs $p"
		done
		# shellcheck disable=SC2086 # $pkgs is a word list
		(cd "$dir/debs" && apt-get "${APTOPT[@]}" -qq download $pkgs)
		for p in "$dir"/debs/*.deb; do dpkg -x "$p" "$dir/root"; done
		cp "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinuz"
		ln -sfn "root/usr/src/linux-headers-$kver" "$dir/kdir"
		rm -rf "$dir/debs"
		touch "$dir/.done"
	fi
	relocate_headers "$dir/root/usr/src/linux-headers-$kver/Makefile"
	ln -sfn "$kver" "$BUILD/kernels/$series"
}

fetch 6.1 bookworm
fetch 6.12 bookworm-backports
ls -l "$BUILD/kernels"
