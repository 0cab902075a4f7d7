#!/usr/bin/env bash
# Runs the JDK's javadoc (doclint on) over the norm layers and their functional forms, since the
# maven-javadoc-plugin is not available offline. Output: normlab-core/target/norm-apidocs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
out=normlab-core/target/norm-apidocs
rm -rf "$out"
# -Xdoclint:all: broken HTML, bad {@link}s and wrong @param names are errors (exit status != 0).
"$JAVA_HOME/bin/javadoc" -quiet -Xdoclint:all,-missing --add-modules jdk.incubator.vector \
  -sourcepath normlab-core/src/main/java -d "$out" \
  dev.normlab.nn.norm dev.normlab.nn.functional
echo "javadoc: $out/index.html"
