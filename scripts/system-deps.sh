#!/usr/bin/env bash
# Debian packages that two outputs need beyond Python, installed from this list so that no
# hand-installed package is needed on a new machine:
#   chromium                 the browser test opens the built book headless (tests/browser)
#   latexmk, texlive-*, tex-gyre   `evaltk book --pdf` (Sphinx's pdflatex builder; DESIGN.md)
#   poppler-utils            pdftotext / pdftoppm, with which the PDF test reads the PDF back
#   openjdk-17-jre-headless  Java for pyspark: the Spark engine's parity tests (local[2] and
#                            Spark Connect, tests/measures/test_measures_spark.py and beside it)
#
#   scripts/system-deps.sh            install what is missing (root and apt-get), else fail
#   scripts/system-deps.sh --or-warn  the same when it can; otherwise print one line naming
#                                     the tests that will be skipped, and succeed (`make test`)
#
# Packages already installed are not touched, and apt-get is not even updated when nothing is
# missing, so a warm machine spends milliseconds here.
set -euo pipefail

PACKAGES=(
  chromium
  latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended tex-gyre
  poppler-utils
  openjdk-17-jre-headless
)
# Without dpkg (not Debian) a package is judged by the command it provides.
declare -A COMMAND_OF=(
  [chromium]=chromium [latexmk]=latexmk [texlive-latex-recommended]=pdflatex
  [texlive-latex-extra]=pdflatex [texlive-fonts-recommended]=pdflatex [tex-gyre]=pdflatex
  [poppler-utils]=pdftotext [openjdk-17-jre-headless]=java
)

mode=${1:-install}
case $mode in
  install | --or-warn) ;;
  *) echo "usage: scripts/system-deps.sh [--or-warn]" >&2; exit 2 ;;
esac

installed() {
  if command -v dpkg-query >/dev/null 2>&1; then
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
  else
    command -v "${COMMAND_OF[$1]}" >/dev/null 2>&1
  fi
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: installing ${missing[*]} (apt-get, once per machine; a few minutes)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # openjdk's post-install step needs this folder, which slim Debian images leave out.
  mkdir -p /usr/share/man/man1
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "system-deps: installed ${missing[*]}"
  exit 0
fi

line="system-deps: missing ${missing[*]}: the browser test (tests/browser), the PDF test"
line+=" (tests/publish/test_pdf.py) and the Spark tests will be skipped (and fail under CI=true); install them"
line+=" with \`sudo make system-deps\` (Debian/Ubuntu), or the equivalent packages elsewhere"
if [ "$mode" = --or-warn ]; then
  echo "$line" >&2
  exit 0
fi
echo "${line/will be skipped/need them}" >&2
exit 1
