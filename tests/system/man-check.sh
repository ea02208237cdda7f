#!/usr/bin/env bash
# man-check.sh MANDIR NAME=PROGRAM... [imsakad.conf=EXAMPLE]
# Every manual page in MANDIR/manN (made by scdoc at build time) renders with `man -l` without a
# warning and has NAME, SYNOPSIS and DESCRIPTION; the page of each PROGRAM names every option
# and subcommand its --help lists (and every option of each subcommand's --help); the page
# of imsakad.conf names every section and key of the annotated example configuration.
set -uo pipefail
dir=$1
shift
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
render() { LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$1" 2>/dev/null | col -bx; }
# The options (-h, --name) a CLI11 --help lists, and its subcommands.
options_of() { grep -oE -- '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[ ,]*//' | sort -u; }
subcommands_of() { sed -n '/^Subcommands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'; }

command -v man >/dev/null || { echo "man is missing: install man-db (scripts/install-deps.sh)" >&2; exit 1; }
for spec in "$@"; do
  name=${spec%%=*} source=${spec#*=}
  page=$(compgen -G "$dir/man[0-9]/$name.[0-9]" | head -n1)
  [ -n "$page" ] || { fail "no manual page for $name in $dir"; continue; }
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l --warnings=all "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "$name: man -l warns: $warnings"
  text=$(render "$page")
  for heading in NAME SYNOPSIS DESCRIPTION; do
    grep -q "^$heading" <<<"$text" || fail "$name: no $heading section"
  done
  words=()
  if [ "$name" = imsakad.conf ]; then
    mapfile -t words < <(sed -nE 's/^\[([a-z]+)\]$/[\1]/p; s/^;? *([a-z_]+) =.*/\1/p' "$source")
  else
    help=$("$source" --help 2>&1) || { fail "$name --help failed: $help"; continue; }
    mapfile -t words < <(options_of <<<"$help")
    while read -r sub; do
      [ -n "$sub" ] || continue
      words+=("$sub")
      # imsakactl register hands everything, --help included, to imsaka-register (its page).
      [ "$name/$sub" = imsakactl/register ] && continue
      subhelp=$("$source" "$sub" --help 2>&1) || { fail "$name $sub --help failed: $subhelp"; continue; }
      mapfile -t -O "${#words[@]}" words < <(options_of <<<"$subhelp")
    done < <(subcommands_of <<<"$help")
  fi
  [ ${#words[@]} -gt 0 ] || { fail "$name: found nothing to look for"; continue; }
  missing=()
  for word in "${words[@]}"; do
    grep -qF -- "$word" <<<"$text" || missing+=("$word")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "PASS: $name($(basename "$page" | sed 's/.*\.//')) renders and names all ${#words[@]}: ${words[*]}"
  else
    fail "$name: the page does not name ${missing[*]}"
  fi
done
echo "man pages: $failures failed"
[ "$failures" -eq 0 ]
