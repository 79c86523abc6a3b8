#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/ stays true to the tree: every repository path a page names in backticks (`core/plugin.c`,
# `lua/vibeml/tools/<name>.lua`, `bench/*/run.sh`) must exist (a <placeholder> or * matches any
# name), every relative Markdown link must lead to a file, and no tracked text points outside
# the repository (../shared, reference/*.md research notes, "the brief", "contract N",
# INTERFACE.md, ARCHITECTURE.md, STYLE.md).
# A self-check first feeds the checker a page with a missing path and expects it to complain.
# usage: test_docs_paths.sh [VIBEML_BIN]   (the binary is not needed)
set -u
root=${VML_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1

# Prints one line per problem in the given pages; returns 1 when there is any.
check_pages() {
  local bad=0 page tok pat link dir
  for page in "$@"; do
    dir=$(dirname "$page")
    # each line: the token as written, a tab, the token with <placeholders> and {x} made '*'
    while IFS=$'\t' read -r tok pat; do
      case $tok in
        *' '*|'') continue ;;
        core/*|lua/*|workflows/*|plugins/*|tests/*|bench/*|examples/*|docs/*|.ci/*) ;;
        CMakeLists.txt|README.md|.clang-format) ;;
        *) continue ;;
      esac
      if ! compgen -G "${pat%/}" >/dev/null; then
        echo "$page: \`$tok\` does not exist"
        bad=1
      fi
    done < <(grep -o '`[^`]*`' "$page" | tr -d '`' \
             | sed -E 'h; s/<[^>]*>/*/g; s/\{[^}]*\}/*/g; H; x; s/\n/\t/')
    while IFS= read -r link; do
      link=${link#*](}; link=${link%)}; link=${link%%#*}
      case $link in http*|mailto:*|'') continue ;; esac
      if [ ! -e "$dir/$link" ]; then
        echo "$page: link ($link) leads nowhere"
        bad=1
      fi
    done < <(grep -o '\]([^)]*)' "$page")
  done
  return $bad
}

fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# self-check: the checker must catch a missing path and a dead link
printf 'See `core/no_such_module.c` and [x](missing.md); `core/plugin.c` is fine.\n' >"$tmp/probe.md"
out=$(check_pages "$tmp/probe.md")
if [ $? -eq 0 ] || ! grep -q no_such_module <<<"$out" || ! grep -q missing.md <<<"$out" \
   || grep -q 'plugin.c' <<<"$out"; then
  echo "FAIL: the checker did not flag exactly the missing path and link: $out"
  fail=1
fi

if ! out=$(check_pages docs/*.md); then
  echo "FAIL: docs/ names what is not in the tree:"
  echo "$out"
  fail=1
fi

# nothing in the repository may send a maintainer outside it
outside=$(grep -rnIE '\.\./shared|shared/(design|reference)|reference/[a-z]+\.md|(training|skypilot|landscape|prd)\.md|the brief|contract [0-9]|INTERFACE\.md|ARCHITECTURE\.md|STYLE\.md' \
  --exclude-dir=node_modules --exclude-dir=.git --exclude-dir='build*' \
  --exclude=test_docs_paths.sh . || true)
if [ -n "$outside" ]; then
  echo "FAIL: pointers outside the repository:"
  echo "$outside"
  fail=1
fi

[ $fail -eq 0 ] && echo "docs paths: ok ($(ls docs/*.md | wc -l) pages)"
exit $fail
