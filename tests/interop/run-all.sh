#!/usr/bin/env bash
# Runs every interoperability script named on the command line (default: all *.sh here but
# lib.sh and this one), each bounded to 5 minutes, and prints the summed count line.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scripts=("$@")
if [[ ${#scripts[@]} -eq 0 ]]; then
    for script in "${here}"/*.sh; do
        case $(basename "${script}") in lib.sh | run-all.sh) ;; *) scripts+=("${script}") ;; esac
    done
fi

passed=0
failed=0
for script in "${scripts[@]}"; do
    echo "--> ${script}"
    log=$(mktemp)
    timeout 300 bash "${script}" 2>&1 | tee "${log}"
    status=${PIPESTATUS[0]}
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "${log}" | tail -n 1)
    rm -f "${log}"
    if [[ -z ${counts} ]]; then
        echo "FAIL: ${script} ended with status ${status} before its count line"
        failed=$((failed + 1))
        continue
    fi
    passed=$((passed + ${counts%% passed*}))
    counts=${counts#*, }
    failed=$((failed + ${counts%% failed*}))
    if [[ ${status} -ne 0 && ${counts%% failed*} -eq 0 ]]; then
        echo "FAIL: ${script} ended with status ${status}"
        failed=$((failed + 1))
    fi
done
echo "interop: ${passed} passed, ${failed} failed"
[[ ${failed} -eq 0 && ${passed} -gt 0 ]]
