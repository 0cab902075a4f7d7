package dev.normlab.bench;

/** Placeholder until the conv kernels land. */
final class ConvBenchCases {
  static void run() {}
}
