#!/usr/bin/env python3
"""Reports, for each method C2 compiled, its innermost loops that use vector registers and how many
of their instructions reload a vector from the stack (a spill): `scripts/c2-scan.sh` feeds it the
output of -XX:CompileCommand=print. Only the last C2 compile of each method counts; on-stack
replacement compiles are listed apart. A loop here is the address range of a backward jump, so
cold blocks laid out inside it are counted too; reloads are what matter (a cold path saving state
before a deoptimization only stores).

usage: c2_vector_loops.py PRINT_OUTPUT [--all]
"""
import re
import subprocess
import sys
import tempfile

HEAD = re.compile(r'^Compiled method \(c2\).*? (\S+::\S+)( @ \d+)? \(')
CODE = re.compile(r'\s*(0x[0-9a-f]+): ((?:[0-9a-f]{2,4} ?\|? ?)+)$')
JUMP = re.compile(r'j\w+\s+0x([0-9a-f]+)')


def machine_code(lines, start):
    """The bytes of the [MachCode] block after line `start`, and the address of the first."""
    code, base, inside = bytearray(), None, False
    for line in lines[start:]:
        if line.startswith('[MachCode]'):
            inside = True
            continue
        if inside and line.startswith('[/MachCode]'):
            break
        m = CODE.match(line) if inside else None
        if m:
            addr = int(m.group(1), 16)
            if base is None:
                base = addr
            if addr - base > len(code):
                continue  # a gap: not code we can place
            del code[addr - base:]
            code += bytes.fromhex(m.group(2).replace('|', '').replace(' ', ''))
    return bytes(code), base


def disassemble(code, base):
    with tempfile.NamedTemporaryFile(suffix='.bin') as f:
        f.write(code)
        f.flush()
        out = subprocess.run(
            ['objdump', '-D', '-b', 'binary', '-mi386:x86-64', f'--adjust-vma={base}', f.name],
            capture_output=True, text=True, check=True).stdout
    result = []
    for line in out.splitlines():
        parts = line.split('\t')
        if len(parts) > 2 and re.match(r'\s+[0-9a-f]+:', parts[0]):
            result.append((int(parts[0].strip()[:-1], 16), parts[2].strip()))
    return result


def vector_loops(instructions):
    spans = []
    for addr, text in instructions:
        m = JUMP.match(text)
        if m and int(m.group(1), 16) < addr:
            spans.append((int(m.group(1), 16), addr))
    innermost = [s for s in spans
                 if not any(o != s and s[0] <= o[0] and o[1] <= s[1] for o in spans)]
    loops = []
    for lo, hi in innermost:
        body = [t for a, t in instructions if lo <= a <= hi]
        vector = sum('ymm' in t or 'zmm' in t for t in body)
        if vector:
            # a whole vector read back from the stack; a broadcast of a spilled scalar (4 or 8
            # bytes, never across a cache line) is cheap and not counted
            reloads = sum(bool(re.search(r'\(%rsp\),%[yz]mm', t)) and 'broadcast' not in t
                          for t in body)
            loops.append((len(body), vector, reloads))
    return loops


def main():
    lines = open(sys.argv[1], errors='replace').read().split('\n')
    show_all = '--all' in sys.argv
    last = {}
    for i, line in enumerate(lines):
        m = HEAD.match(line)
        if m:
            last[m.group(1) + (m.group(2) or '')] = i
    for name, at in sorted(last.items()):
        code, base = machine_code(lines, at)
        if not code:
            continue
        loops = vector_loops(disassemble(code, base))
        spilling = [l for l in loops if l[2]]
        if spilling or (show_all and loops):
            shown = spilling if spilling else loops
            desc = ', '.join(f'{n} instr/{v} vector/{r} reloads' for n, v, r in shown[:4])
            print(f'{name}: {desc}')


if __name__ == '__main__':
    main()
