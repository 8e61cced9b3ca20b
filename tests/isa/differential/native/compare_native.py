# Compare Unicorn (argv[1]) and native (argv[2]) JSON lines; argv[3]: defined-flags masks per case.
import json, sys
defined = json.load(open(sys.argv[3]))
ref = [json.loads(l) for l in open(sys.argv[1])]
nat = {d['case']: d for d in (json.loads(l) for l in open(sys.argv[2]))}
STATUS = 0x8d5
bad = 0
kinds = {}
for r in ref:
    n = r['case']; d = nat.get(n)
    if 'error' in r or d is None: print('ERR', n, r.get('error')); bad += 1; continue
    if d['sig'] != 11: print('SIG', n, d['sig'])
    diffs = [k for k in r['regs'] if int(r['regs'][k],16) != int(d['regs'][k],16)]
    m = (STATUS & defined[n]) | 0x400
    fd = (int(r['rflags'],16) ^ int(d['rflags'],16)) & m
    if diffs or fd:
        bad += 1
        key = (tuple(diffs), fd)
        kinds.setdefault(key, []).append(n)
for k, v in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
    print(k, len(v), v[:8])
print('bad', bad, 'of', len(ref))
