#!/bin/sh
# Refreshes the embedded SigmaHQ selection from a SigmaHQ checkout:
#   internal/hunt/rules/update.sh ../shared/corpus/sigma
# Selection (SigmaHQ's "Core+" package criteria, limited to log sources
# mamori reads): rules/ only, status stable or test, level medium, high or
# critical, product windows, or product linux without a Sysmon-for-Linux
# category.
set -eu
src=${1:?usage: update.sh SIGMAHQ_DIR}
dst=$(dirname "$0")/sigmahq
rm -rf "$dst"
mkdir -p "$dst"
cd "$src"
grep -rlE '^status: (stable|test)' rules |
	xargs grep -lE '^level: (medium|high|critical)' |
	xargs grep -lE '^\s+product: (windows|linux)' | sort |
	while read -r f; do
		if grep -qE '^\s+product: linux' "$f" && grep -qE '^\s+category:' "$f"; then
			continue
		fi
		mkdir -p "$OLDPWD/$dst/$(dirname "$f")"
		cp "$f" "$OLDPWD/$dst/$f"
	done
cd "$OLDPWD"
head -1 "$src/SOURCE_COMMIT" >"$dst/SOURCE_COMMIT"
find "$dst" -name '*.yml' | wc -l
