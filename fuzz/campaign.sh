#!/usr/bin/env bash
# A bounded fuzzing campaign: every target (or those named) in turn, one at a time, at the
# lowest CPU priority, each for SECONDS (default 300). New inputs go to a working corpus
# outside the repository (CORPUS_DIR, default /tmp/keyprov-corpus), seeded from fuzz/corpus.
# Prints one markdown table row per target: executions, coverage (libFuzzer's "cov", edges
# reached), features ("ft"), corpus size, and the result.
#
#   fuzz/campaign.sh                      # every target, 300 s each
#   SECONDS_PER_TARGET=1800 fuzz/campaign.sh role_registrar
#   SANITIZER=address fuzz/campaign.sh    # slower, with AddressSanitizer (default: none)
set -uo pipefail
cd "$(dirname "$0")"
per_target="${SECONDS_PER_TARGET:-300}"
corpus_root="${CORPUS_DIR:-/tmp/keyprov-corpus}"
sanitizer="${SANITIZER:-none}"
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

nice -n 19 cargo +nightly fuzz build --sanitizer "${sanitizer}" >/dev/null 2>&1 || exit 1
echo "| target | seconds | executions | exec/s | cov | ft | corpus | result |"
echo "|---|---|---|---|---|---|---|---|"
for target in "${targets[@]}"; do
    work="${corpus_root}/${target}"
    mkdir -p "${work}"
    log="${corpus_root}/${target}.log"
    nice -n 19 cargo +nightly fuzz run --sanitizer "${sanitizer}" "${target}" "${work}" \
        "corpus/${target}" -- -max_total_time="${per_target}" -print_final_stats=1 \
        >"${log}" 2>&1
    status=$?
    result="ok"
    [ "${status}" -ne 0 ] && result="FAILED, see ${log} and artifacts/${target}/"
    done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "${log}" | tail -n 1)"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "${log}")"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "${log}")"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"${done_line}")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"${done_line}")"
    corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"${done_line}")"
    echo "| ${target} | ${per_target} | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${result} |"
done
