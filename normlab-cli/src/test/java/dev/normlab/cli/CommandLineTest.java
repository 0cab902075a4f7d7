package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The command line each run records (env.command) can be pasted back into a shell. */
class CommandLineTest {
  @Test
  void plainArgumentsAsTheyAreOthersQuoted() {
    assertEquals(
        "normlab compare --quick --norms batch,group --lr=0.01 --out /tmp/a-b",
        Main.commandLine(
            "compare", "--quick", "--norms", "batch,group", "--lr=0.01", "--out", "/tmp/a-b"));
    assertEquals(
        "normlab train --name 'my run' --group '' --tag 'it'\\''s' '$HOME'",
        Main.commandLine("train", "--name", "my run", "--group", "", "--tag", "it's", "$HOME"));
    assertEquals("normlab", Main.commandLine());
  }
}
