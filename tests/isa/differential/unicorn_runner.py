#!/usr/bin/python3
"""Reference side of the NMI Lab differential test: run a batch of cases in Unicorn.

Usage: /usr/bin/python3 unicorn_runner.py BATCH.S OUT.jsonl TEXT_BASE STACK_TOP STACK_SIZE [RFLAGS]

BATCH.S holds every case: `case_N:` ... `case_N_end:` `hlt`.  It is assembled once
with GNU as (`as --64`), linked with `.text` at TEXT_BASE (`ld -Ttext=...`), flattened
with `objcopy -O binary`, and the case labels are read from `nm`.  Unicorn (UC_MODE_64)
maps the code at TEXT_BASE and a zeroed, writable stack [STACK_TOP-STACK_SIZE, STACK_TOP),
exactly like the emulator's EXEC_LAYOUT.  For each case the machine is reset (every
GPR 0, RSP = STACK_TOP, RFLAGS = 0x2, stack zeroed) and run from `case_N` until
`case_N_end` (the address of its `hlt`, which is not executed).

Output: one JSON object per line, in case order:
  {"case": N, "regs": {"rax": "0x..", ...}, "rflags": "0x..", "rip": "0x.."}
or, if Unicorn raised, {"case": N, "error": "..."}.
On stdout: one JSON line with timings (assemble_ms: as + ld + objcopy + nm, run_ms: Unicorn).
Exit status 2 with a message on stderr when a tool (Unicorn, as, ld, objcopy, nm) is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import time

GPRS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
        'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']


def die(msg):
    sys.stderr.write('unicorn_runner: ' + msg + '\n')
    sys.exit(2)


try:
    from unicorn import Uc, UcError, UC_ARCH_X86, UC_MODE_64, UC_PROT_ALL
    from unicorn import x86_const as X
except ImportError as e:  # pragma: no cover - reported to the jest test
    die('cannot import unicorn (%s); install Debian package python3-unicorn '
        'and run with /usr/bin/python3' % e)


def run_tool(argv):
    if shutil.which(argv[0]) is None:
        die('%s not found on PATH; install Debian package binutils' % argv[0])
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        die('%s failed (exit %d):\n%s' % (' '.join(argv), p.returncode, p.stderr[-8000:]))
    return p.stdout


def main():
    if len(sys.argv) not in (6, 7):
        die('usage: unicorn_runner.py BATCH.S OUT.jsonl TEXT_BASE STACK_TOP STACK_SIZE [RFLAGS]')
    t0 = time.time()
    src, out_path = sys.argv[1], sys.argv[2]
    text_base = int(sys.argv[3], 0)
    stack_top = int(sys.argv[4], 0)
    stack_size = int(sys.argv[5], 0)
    # initial RFLAGS (0x2 like the emulator; the native cross-check uses 0x202, IF as in user mode)
    init_rflags = int(sys.argv[6], 0) if len(sys.argv) == 7 else 0x2
    work = os.path.dirname(os.path.abspath(out_path))
    obj = os.path.join(work, 'batch.o')
    elf = os.path.join(work, 'batch.elf')
    binf = os.path.join(work, 'batch.bin')

    run_tool(['as', '--64', '-o', obj, src])
    run_tool(['ld', '-m', 'elf_x86_64', '-Ttext=0x%x' % text_base, '-e', '0x%x' % text_base,
              '-o', elf, obj])
    run_tool(['objcopy', '-O', 'binary', '-j', '.text', elf, binf])
    starts, ends = {}, {}
    for line in run_tool(['nm', elf]).splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        addr, name = int(parts[0], 16), parts[2]
        if name.startswith('case_'):
            if name.endswith('_end'):
                ends[int(name[5:-4])] = addr
            else:
                starts[int(name[5:])] = addr
    if not starts or set(starts) != set(ends):
        die('batch has no cases or unmatched case_N / case_N_end labels')
    with open(binf, 'rb') as f:
        code = f.read()

    mu = Uc(UC_ARCH_X86, UC_MODE_64)
    page = 0x1000
    code_size = (len(code) + page - 1) // page * page
    mu.mem_map(text_base, code_size, UC_PROT_ALL)
    mu.mem_write(text_base, code)
    stack_base = stack_top - stack_size
    mu.mem_map(stack_base, stack_size, UC_PROT_ALL)
    zero_stack = bytes(stack_size)

    reg_ids = [getattr(X, 'UC_X86_REG_' + r.upper()) for r in GPRS]
    rsp_id = X.UC_X86_REG_RSP
    rflags_id = X.UC_X86_REG_RFLAGS
    rip_id = X.UC_X86_REG_RIP

    out = []
    t_run = time.time()
    for n in sorted(starts):
        mu.mem_write(stack_base, zero_stack)
        for rid in reg_ids:
            mu.reg_write(rid, 0)
        mu.reg_write(rsp_id, stack_top)
        mu.reg_write(rflags_id, init_rflags)
        try:
            # count bounds a runaway case; cases are straight-line and short.
            mu.emu_start(starts[n], ends[n], 0, 100000)
        except UcError as e:
            out.append(json.dumps({'case': n, 'error': str(e),
                                   'rip': hex(mu.reg_read(rip_id))}))
            continue
        rip = mu.reg_read(rip_id)
        if rip != ends[n]:
            out.append(json.dumps({'case': n, 'error': 'stopped at 0x%x, not at the hlt (step limit?)' % rip,
                                   'rip': hex(rip)}))
            continue
        regs = {name: hex(mu.reg_read(rid)) for name, rid in zip(GPRS, reg_ids)}
        out.append(json.dumps({'case': n, 'regs': regs, 'rflags': hex(mu.reg_read(rflags_id)),
                               'rip': hex(rip)}))
    with open(out_path, 'w') as f:
        f.write('\n'.join(out))
        f.write('\n')
    # timing for the test's report (stdout carries nothing else)
    print(json.dumps({'cases': len(starts), 'assemble_ms': round((t_run - t0) * 1000),
                      'run_ms': round((time.time() - t_run) * 1000)}))


if __name__ == '__main__':
    main()
