# Sourced by normlab's scripts: finds a JDK 25+ and sets JAVA_HOME, PATH and the JVM flags.
# Order: $JAVA_HOME if it is 25 or newer, else the newest /usr/lib/jvm/*25* (or later) install.
normlab_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1
}
normlab_find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    local v; v=$(normlab_java_major "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null; then echo "$JAVA_HOME"; return 0; fi
  fi
  local d
  for d in $(ls -d /usr/lib/jvm/*25* /usr/lib/jvm/*2[6-9]* /usr/lib/jvm/*3[0-9]* 2>/dev/null | sort -r); do
    if [ -x "$d/bin/javac" ]; then echo "$d"; return 0; fi
  done
  return 1
}
if ! NORMLAB_JDK=$(normlab_find_jdk); then
  echo "normlab: no JDK 25+ found. Set JAVA_HOME to a JDK 25 or install one under /usr/lib/jvm (e.g. Temurin 25)." >&2
  return 1 2>/dev/null || exit 1
fi
export JAVA_HOME="$NORMLAB_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
# The Vector API is an incubator module; silence its start-up warning only in our launchers.
# The export lets kernels.Buffers allocate output arrays without the JVM's zeroing pass.
export NORMLAB_JVM_FLAGS="--add-modules jdk.incubator.vector --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC"
