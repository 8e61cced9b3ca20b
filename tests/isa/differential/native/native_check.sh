#!/bin/sh
# Developer cross-check, not run in CI: does the reference (Unicorn) agree with this machine's
# CPU on generated cases, with the generator's undefined-flag masking? Needs gcc, binutils,
# python3-unicorn and an x86-64 Linux host.
#   tests/isa/differential/native/native_check.sh [SEED] [COUNT]
# Both sides run a user-space layout (text 0x100000000, stack top 0x200008000) with IF set
# (user-mode POPF cannot clear it), so flag images get IF via GenOptions.imageExtra.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
seed=${1:-1}
count=${2:-10000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O1 -o "$work/native_runner" "$here/native_runner.c"
cat > "$work/gen.ts" <<TS
import { generateCases, batchSource } from '$repo/tests/isa/differential/generate';
import * as fs from 'fs';
const cases = generateCases($seed, $count, { imageExtra: 0x200 });
fs.writeFileSync('$work/batch.S', batchSource(cases));
fs.writeFileSync('$work/defined.json', JSON.stringify(cases.map((c) => c.definedFlags)));
TS
(cd "$repo" && npx tsx "$work/gen.ts")
/usr/bin/python3 "$here/../unicorn_runner.py" "$work/batch.S" "$work/unicorn.jsonl" 0x100000000 0x200008000 0x8000 0x202
nm "$work/batch.elf" | awk '$3 ~ /^case_[0-9]+$/ {sub("case_","",$3); print $3, $1}' | sort -n > "$work/starts.txt"
"$work/native_runner" "$work/batch.bin" 0x100000000 0x200008000 0x8000 "$work/starts.txt" > "$work/native.jsonl"
/usr/bin/python3 "$here/compare_native.py" "$work/unicorn.jsonl" "$work/native.jsonl" "$work/defined.json"
