#!/usr/bin/env bash
# report_chromium.sh TEST_REPORT_HTML FIXTURE.json SCRATCH_DIR [DOC.json...]
# Renders the fixture (and an empty document) to HTML with the test driver,
# loads each page in headless Chromium and checks: no console message at all
# (no script error, no load blocked by the page's Content-Security-Policy),
# no network request made by the page, the six sections in the DOM, the
# sorting script ran to its end on both tables, names stayed text. Skips
# (77) when chromium is not installed. Further documents (e.g. a real
# `octet analyze` output) get the checks that hold for every page. Ends
# with "N passed, N failed".
set -u
driver=$1 fixture=$2 scratch=$3
shift 3

chromium=${CHROMIUM:-}
[ -n "$chromium" ] || chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIPPED: chromium not installed"
  echo "0 passed, 0 failed, 1 skipped"
  exit 77
fi

mkdir -p "$scratch"
work=$(mktemp -d "$scratch/chromium.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what"
  fi
}

# load NAME: loads $work/NAME.html; DOM in NAME.dom, log in NAME.log, net log
# in NAME.net. No network at all: every host resolves to nothing.
load() {
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-extensions "--host-resolver-rules=MAP * ~NOTFOUND" \
    --user-data-dir="$work/profile-$1" --enable-logging=stderr --v=0 \
    --log-net-log="$work/$1.net" --virtual-time-budget=2000 \
    --dump-dom "file://$work/$1.html" >"$work/$1.dom" 2>"$work/$1.log"
}

count() { grep -o -- "$1" "$2" | wc -l; }

page_checks() { # page_checks NAME
  local n=$1
  check "$n: chromium ran" load "$n"
  check "$n: DOM dumped" test -s "$work/$n.dom"
  if grep -E "CONSOLE|Uncaught" "$work/$n.log" >"$work/$n.console"; then
    check "$n: console messages: $(head -c 600 "$work/$n.console")" false
  else
    check "$n: no console message" true
  fi
  check "$n: the page made a network request" \
    test "$(grep -c -E '"initiator":"(null|file:)' "$work/$n.net" 2>/dev/null)" = 0
  for id in summary diagnosis sqnr sensitivity histograms plan; do
    check "$n: section $id in the DOM" grep -q "<section id=\"$id\">" "$work/$n.dom"
  done
}

# the fixture
if "$driver" --render "$fixture" "$work/fixture.html"; then
  check "fixture rendered" true
  page_checks fixture
  dom=$work/fixture.dom
  check "fixture: the sorting script did not run to its end on the three tables" \
    test "$(count 'data-sort-ready="1"' "$dom")" = 3
  check "fixture: svg charts lost or added by the parser" \
    test "$(count '<svg' "$dom")" = "$(count '<svg' "$work/fixture.html")"
  check "fixture: chart points lost" \
    test "$(count '<circle' "$dom")" = "$(count '<circle' "$work/fixture.html")"
  check "fixture: the odd tensor name is not text in the DOM" \
    grep -q 'weird&lt;name&gt;&amp;"q"/Mul_output_0' "$dom"
  check "fixture: a name became an element" bash -c "! grep -q '<name' '$dom'"
  check "fixture: diagnosis cards" test "$(count 'class="card ' "$dom")" = 3

  # sorting: click the SQNR header of the tensor table twice and record the
  # first and last rows each time (null SQNRs stay last both ways)
  sed 's#</body>#<script>(function(){var t=document.querySelector("table.tensors");\
var th=t.tHead.rows[0].cells[4],r=[];function ends(){var b=t.tBodies[0].rows;\
r.push(b[0].cells[1].textContent+"|"+b[b.length-1].cells[1].textContent);}\
th.click();ends();th.click();ends();document.body.setAttribute("data-sorted",r.join(";"));\
})();</script></body>#' "$work/fixture.html" >"$work/sorted.html"
  check "sorting: chromium ran" load sorted
  check "sorting: console messages" bash -c "! grep -q -E 'CONSOLE|Uncaught' '$work/sorted.log'"
  check "sorting: ascending then descending SQNR: $(grep -o 'data-sorted="[^"]*"' "$work/sorted.dom")" \
    grep -q 'data-sorted="output0|weird&lt;name&gt;&amp;&quot;q&quot;/Mul_output_0;images|weird&lt;name&gt;&amp;&quot;q&quot;/Mul_output_0"' "$work/sorted.dom"
else
  check "fixture rendered" false
fi

# an empty document: the script must cope with no tables
printf '{}\n' >"$work/empty.json"
if "$driver" --render "$work/empty.json" "$work/empty.html"; then
  check "empty rendered" true
  page_checks empty
  check "empty: no sortable table, nothing marked" \
    test "$(count 'data-sort-ready="' "$work/empty.dom")" = 0
else
  check "empty rendered" false
fi

# further documents
i=0
for doc in "$@"; do
  i=$((i + 1))
  if "$driver" --render "$doc" "$work/doc$i.html"; then
    check "$doc rendered" true
    page_checks "doc$i"
  else
    check "$doc rendered" false
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
