# Sourced by the benchmark scripts. median: the median of the numbers on stdin, one per line (the
# lower of the middle two for an even count).
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
