package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** `normlab summary`: the layers per norm and what each norm adds. */
class SummaryCliTest {
  @Test
  void tablesPerNormAndTheirTotals() {
    Cli.Result r = Cli.inProcess("summary", "--norms", "none,group", "--batch-size", "8");
    assertEquals(0, r.exit(), r.all());
    assertTrue(r.out().contains("[group]\nlayer "), r.out());
    assertTrue(
        r.out()
            .matches(
                "(?s).*\nnorm2 +GroupNorm\\(8, 64, eps=1e-05, affine=True\\) +\\[8, 64, 24, 24\\] +128 +-\n.*"),
        r.out());
    assertTrue(
        r.out()
            .endsWith(
                "norm         parameters       in the norms          buffers\n"
                    + "none          1,199,882                  0                0\n"
                    + "group         1,200,074                192                0\n"),
        r.out());
  }

  @Test
  void badNormsAndGroupsAreUsageErrors() {
    Cli.Result norm = Cli.inProcess("summary", "--norms", "batch,weight").assertNoStackTrace();
    assertEquals(2, norm.exit(), norm.all());
    Cli.Result groups =
        Cli.inProcess("summary", "--norms", "group", "--groups", "5").assertNoStackTrace();
    assertEquals(2, groups.exit(), groups.all());
    assertTrue(groups.err().contains("group: "), groups.err());
    assertEquals(2, Cli.inProcess("summary", "--batch-size", "0").exit());
  }
}
