#!/usr/bin/env python3
"""Lists where a Java run boxed Vector API vectors: the jdk.ObjectAllocationSample events of a JFR
recording (printed by `jfr print --events jdk.ObjectAllocationSample --stack-depth 12`) whose stack
passes through jdk.incubator.vector, counted by their first normlab frame. Events in the first
SKIP fraction of the recording (warm-up: interpreted and C1 code always boxes) are left out.
`scripts/c2-scan.sh` runs it.

usage: vector_boxing.py JFR_PRINT_OUTPUT [SKIP]   (SKIP: 0..1, default 0.5)
"""
import collections
import sys


def seconds(clock):
    h, m, s = clock.split(':')
    return int(h) * 3600 + int(m) * 60 + float(s)


def events(path):
    event = None
    for line in open(path, errors='replace'):
        if line.startswith('jdk.ObjectAllocationSample'):
            event = {'t': None, 'frames': []}
        elif event is not None and 'startTime =' in line:
            event['t'] = seconds(line.split('=', 1)[1].split()[0])
        elif event is not None and 'line:' in line:
            event['frames'].append(line.strip())
        elif line.startswith('}') and event is not None:
            if event['t'] is not None:
                yield event
            event = None


def main():
    skip = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    all_events = list(events(sys.argv[1]))
    if not all_events:
        print('no allocation samples')
        return
    t0 = min(e['t'] for e in all_events)
    t1 = max(e['t'] for e in all_events)
    cut = t0 + skip * (t1 - t0)
    late = [e for e in all_events if e['t'] >= cut]
    boxed = collections.Counter()
    for e in late:
        if any('jdk.incubator.vector' in f for f in e['frames']):
            first = next((f.split('(')[0] for f in e['frames'] if 'dev.normlab' in f), '?')
            boxed[first] += 1
    print(f'{len(late)} samples in the last {1 - skip:.0%} of {t1 - t0:.1f} s; '
          f'{sum(boxed.values())} of them boxed vectors')
    for frame, n in boxed.most_common(10):
        print(f'{n:6d} {frame}')


if __name__ == '__main__':
    main()
