package dev.normlab.examples;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.normlab.cli.Main;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Docs cannot rot: every {@code ```java} block of the guide (and of the README) must be, up to
 * whitespace, a region {@code // doc:NAME begin ... // doc:NAME end} of an example that the build
 * compiles and the tests run; every {@code ./normlab ...} command they show must parse with the
 * real CLI.
 */
class DocsTest {
  /** Pages whose {@code java} blocks must be example regions and whose commands must parse. */
  static final List<String> DOCS =
      List.of("docs/instance-normalization.md", "docs/migration.md", "README.md");

  /** Pages whose {@code ./normlab} command lines are checked too (their Java is not examples'). */
  static final List<String> COMMAND_DOCS =
      List.of("docs/tracking.md", "docs/dashboard.md", "docs/reliability.md");

  private static final Pattern FENCE = Pattern.compile("(?ms)^```(\\w*)[^\\n]*\\n(.*?)^```");
  private static final Pattern REGION =
      Pattern.compile("(?ms)//\\s*doc:([\\w-]+) begin\\s*\\n(.*?)^\\s*//\\s*doc:\\1 end");
  private static final Pattern INLINE_COMMAND = Pattern.compile("`(\\./normlab [^`]*)`");

  @Test
  void everyJavaBlockIsAMarkedRegionOfACompiledExample() throws IOException {
    Map<String, String> regions = regions();
    assertTrue(
        regions.size() >= 8, "expected the examples' doc regions, found " + regions.keySet());
    int blocks = 0;
    List<String> problems = new ArrayList<>();
    for (Path doc : docs()) {
      for (String block : fencedBlocks(Files.readString(doc), "java")) {
        blocks++;
        String normalized = normalize(block);
        if (!regions.containsValue(normalized)) {
          problems.add(
              doc.getFileName()
                  + ": this java block matches no // doc:NAME region of normlab-examples:\n"
                  + block);
        }
      }
    }
    assertTrue(
        blocks >= 8, "the guide should show the examples' code, found " + blocks + " blocks");
    if (!problems.isEmpty()) {
      fail(String.join("\n\n", problems));
    }
  }

  @Test
  void aChangedSnippetIsCaught() throws IOException {
    Map<String, String> regions = regions();
    String quickStart = regions.get("quickstart");
    assertTrue(quickStart != null, "QuickStart has a doc:quickstart region");
    String edited = quickStart.replace("randn(newRng(0),8,3,", "randn(newRng(0),8,4,");
    assertFalse(edited.equals(quickStart), "regions are stored whitespace-free: " + quickStart);
    assertFalse(regions.containsValue(edited));
  }

  @Test
  void everyNormlabCommandInTheDocsParses() throws IOException {
    int parsed = 0;
    List<String> problems = new ArrayList<>();
    List<Path> pages = new ArrayList<>(docs());
    for (String d : COMMAND_DOCS) {
      Path p = Repo.root().resolve(d);
      assertTrue(Files.exists(p), "missing " + d);
      pages.add(p);
    }
    for (Path doc : pages) {
      for (String line : commands(Files.readString(doc))) {
        List<String> args = tokens(line);
        args.remove(0); // ./normlab
        CommandLine cl = new CommandLine(new Main());
        String sub = args.stream().filter(a -> !a.startsWith("-")).findFirst().orElse("");
        if (args.size() == 1 && cl.getSubcommands().containsKey(sub)) {
          parsed++; // a bare `./normlab eval` in prose names the command; its options may be
          // required
          continue;
        }
        try {
          cl.parseArgs(args.toArray(String[]::new));
          parsed++;
        } catch (CommandLine.ParameterException e) {
          problems.add(doc.getFileName() + ": `" + line + "`: " + e.getMessage());
        }
      }
    }
    assertTrue(parsed >= 5, "expected the guide's commands, parsed " + parsed);
    if (!problems.isEmpty()) {
      fail(String.join("\n", problems));
    }
  }

  @Test
  void aWrongCommandIsCaught() {
    List<String> args = tokens("./normlab compare --quick --no-such-flag 3");
    args.remove(0);
    assertThrows(
        CommandLine.ParameterException.class,
        () -> new CommandLine(new Main()).parseArgs(args.toArray(String[]::new)));
  }

  // ---------------------------------------------------------------- helpers

  static List<Path> docs() {
    Path root = Repo.root();
    List<Path> out = new ArrayList<>();
    for (String d : DOCS) {
      Path p = root.resolve(d);
      if (Files.exists(p)) {
        out.add(p);
      }
    }
    assertTrue(
        out.contains(root.resolve("docs/instance-normalization.md")), "the guide must exist");
    return out;
  }

  static Map<String, String> regions() throws IOException {
    Path src = Repo.root().resolve("normlab-examples/src/main/java");
    Map<String, String> regions = new LinkedHashMap<>();
    try (Stream<Path> files = Files.walk(src)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = REGION.matcher(Files.readString(f));
        while (m.find()) {
          regions.put(m.group(1), normalize(m.group(2)));
        }
      }
    }
    return regions;
  }

  /** Whitespace-insensitive: the formatter may re-wrap code, a reader may too. */
  static String normalize(String code) {
    return code.replaceAll("\\s+", "");
  }

  static List<String> fencedBlocks(String markdown, String language) {
    List<String> out = new ArrayList<>();
    Matcher m = FENCE.matcher(markdown);
    while (m.find()) {
      if (m.group(1).equals(language)) {
        out.add(m.group(2));
      }
    }
    return out;
  }

  /** ./normlab command lines in shell blocks (with \ continuations) and in inline code. */
  static List<String> commands(String markdown) {
    List<String> out = new ArrayList<>();
    Matcher m = FENCE.matcher(markdown);
    while (m.find()) {
      if (m.group(1).equals("java")) {
        continue;
      }
      String joined = m.group(2).replaceAll("\\\\\\n\\s*", " ");
      for (String line : joined.split("\n")) {
        String l = line.strip();
        if (l.startsWith("$ ")) {
          l = l.substring(2);
        }
        if (l.startsWith("./normlab ") || l.equals("./normlab")) {
          out.add(stripComment(l));
        }
      }
    }
    Matcher inline = INLINE_COMMAND.matcher(markdown.replaceAll("(?ms)^```.*?^```", ""));
    while (inline.find()) {
      out.add(inline.group(1).strip());
    }
    return out;
  }

  private static String stripComment(String line) {
    int i = line.indexOf(" #");
    return (i >= 0 ? line.substring(0, i) : line).strip();
  }

  /** Shell-like words: whitespace-separated, with single or double quotes. */
  static List<String> tokens(String line) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("\"([^\"]*)\"|'([^']*)'|(\\S+)").matcher(line);
    while (m.find()) {
      out.add(m.group(1) != null ? m.group(1) : m.group(2) != null ? m.group(2) : m.group(3));
    }
    return out;
  }
}
