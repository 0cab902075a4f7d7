package dev.normlab.cli;

import dev.normlab.io.Json;
import dev.normlab.track.store.RunQuery;
import dev.normlab.track.store.RunStore;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code normlab runs delete|tag|untag|note}: the store's runs edited from the command line, as
 * W&B's run page allows (the dashboard itself only reads).
 */
final class RunsEditCommands {
  private RunsEditCommands() {}

  /** The store file, shared by the subcommands. */
  static final class StoreOption {
    @Option(
        names = "--store",
        defaultValue = "normlab-runs/runs.db",
        description = "run store file (default: ${DEFAULT-VALUE})")
    Path store;
  }

  /**
   * The stored runs a command evaluates from their checkpoints ({@code robustness}, {@code
   * feature-maps}): run ids or {@code --group}, and {@code --which} checkpoint, in {@code --store}.
   */
  static final class CheckpointedRuns {
    @Mixin StoreOption store = new StoreOption();

    @Parameters(paramLabel = "ID", description = "run ids or unique id prefixes")
    List<String> ids = new ArrayList<>();

    @Option(names = "--group", description = "instead of ids: every finished run of this group")
    String group;

    @Option(
        names = "--which",
        defaultValue = "best",
        description =
            "each run's best (the best epoch's) or last checkpoint (default: ${DEFAULT-VALUE})")
    String which;

    /** Usage errors: neither ids nor --group, or both; a --which other than best or last. */
    void check(CommandSpec spec) {
      if (ids.isEmpty() == (group == null)) {
        throw new ParameterException(spec.commandLine(), "name the runs: run ids, or --group");
      }
      if (!which.equals("best") && !which.equals("last")) {
        throw new ParameterException(
            spec.commandLine(), "--which must be best or last, got " + which);
      }
    }

    /**
     * The runs named, or the group's finished runs in the order they trained; for a group without
     * any, an empty list after saying so.
     */
    List<RunQuery.RunInfo> select(RunStore s) {
      List<RunQuery.RunInfo> runs = idsOrFinishedGroup(s.query(), ids, group);
      if (runs.isEmpty()) {
        System.out.println("no finished runs in group " + group + " in " + s.file());
      }
      return runs;
    }

    /** The {@code --which} checkpoint of run {@code runId}. */
    Path checkpoint(RunQuery q, String runId) {
      return checkpointFile(q, runId, which);
    }
  }

  /** The runs of ids or unique id prefixes (each once), naming the first that matches nothing. */
  static List<RunQuery.RunInfo> resolve(RunQuery q, List<String> idsOrPrefixes) {
    Map<String, RunQuery.RunInfo> runs = new LinkedHashMap<>();
    for (String p : idsOrPrefixes) {
      RunQuery.RunInfo r = resolve(q, p);
      runs.putIfAbsent(r.id(), r);
    }
    return List.copyOf(runs.values());
  }

  /** The run of an id or unique id prefix. */
  static RunQuery.RunInfo resolve(RunQuery q, String idOrPrefix) {
    return q.run(idOrPrefix)
        .orElseThrow(() -> new IllegalArgumentException("no run with id or prefix " + idOrPrefix));
  }

  /**
   * The runs named by id (or unique id prefix), or, with {@code group} instead, the group's
   * finished runs in the order they trained (a comparison's order).
   */
  static List<RunQuery.RunInfo> idsOrFinishedGroup(RunQuery q, List<String> ids, String group) {
    if (group == null) {
      return resolve(q, ids);
    }
    List<RunQuery.RunInfo> runs =
        new ArrayList<>(q.runs(new RunQuery.Filter(group, "finished", null)));
    Collections.reverse(runs); // the store lists the newest first
    return runs;
  }

  /** The checkpoint directory a run's config names (absolute), or null when it names none. */
  static Path checkpointDir(RunQuery q, String runId) {
    var v = q.config(runId).get("checkpoint_dir");
    if (v == null || !v.json().startsWith("\"")) {
      return null;
    }
    try {
      return Path.of((String) Json.parse(v.json())).toAbsolutePath().normalize();
    } catch (Json.ParseException e) {
      throw new IllegalStateException(
          "run " + runId + ": its checkpoint_dir is not a JSON string: " + v.json(), e);
    }
  }

  /**
   * The run's {@code best.safetensors} or {@code last.safetensors} ({@code which}) in the
   * checkpoint directory its config names; a run without one is an error naming what is missing.
   */
  static Path checkpointFile(RunQuery q, String runId, String which) {
    Path dir = checkpointDir(q, runId);
    if (dir == null) {
      throw new IllegalArgumentException("run " + runId + " records no checkpoint directory");
    }
    Path file = dir.resolve(which + ".safetensors");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(
          "run " + runId + " has no " + which + " checkpoint: " + file + " is missing");
    }
    return file;
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = {
        "Delete runs from the store, with everything they logged; with --checkpoints also their"
            + " checkpoint files. Lists what it would delete unless --yes is given.",
        "Example: normlab runs delete --group compare-mnist-2026-12-02T03-10-00 --yes"
      })
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @picocli.CommandLine.Mixin StoreOption store = new StoreOption();

    @Parameters(paramLabel = "ID", description = "run ids or unique id prefixes")
    List<String> ids = new ArrayList<>();

    @Option(names = "--group", description = "every run of this group")
    String group;

    @Option(
        names = "--status",
        description = "only runs with this status: finished, failed or killed")
    String status;

    @Option(names = "--tag", description = "only runs with this tag")
    String tag;

    @Option(
        names = "--checkpoints",
        description =
            "also delete the runs' checkpoint files (*.safetensors in each run's checkpoint"
                + " directory), unless a run that stays uses the same directory")
    boolean checkpoints;

    @Option(names = "--yes", description = "delete; without it, only list what would go")
    boolean yes;

    @Override
    public Integer call() {
      boolean filtered = group != null || status != null || tag != null;
      if (ids.isEmpty() == !filtered) {
        throw new ParameterException(
            spec.commandLine(),
            ids.isEmpty()
                ? "name the runs to delete: run ids, or --group, --status or --tag"
                : "give run ids or --group/--status/--tag, not both");
      }
      if (status != null && !List.of("finished", "failed", "killed").contains(status)) {
        throw new ParameterException(
            spec.commandLine(),
            "--status " + status + ": only finished, failed or killed runs can be deleted");
      }
      try (RunStore s = RunStore.openExisting(store.store)) {
        RunQuery q = s.query();
        List<RunQuery.RunInfo> runs = new ArrayList<>();
        if (filtered) {
          runs.addAll(q.runs(new RunQuery.Filter(group, status, tag)));
        } else {
          runs.addAll(resolve(q, ids));
        }
        if (runs.isEmpty()) {
          System.out.println("no runs match in " + s.file());
          return 0;
        }
        Map<Path, List<Path>> files = checkpointFiles(q, runs);
        System.out.print(RunsCommand.table(q, runs));
        long bytes = 0;
        int count = 0;
        for (List<Path> f : files.values()) {
          for (Path p : f) {
            bytes += sizeOf(p);
            count++;
          }
        }
        String what = runs.size() + (runs.size() == 1 ? " run" : " runs");
        if (checkpoints) {
          what += String.format(", %d checkpoint files (%.1f MB)", count, bytes / 1e6);
        }
        if (!yes) {
          System.out.println("would delete " + what + "; add --yes to delete");
          return 0;
        }
        List<String> runIds = runs.stream().map(RunQuery.RunInfo::id).toList();
        s.delete(runIds); // all or none: a running run stops it here
        for (var e : files.entrySet()) {
          deleteCheckpoints(e.getKey(), e.getValue());
        }
        long[] size = s.vacuum();
        System.out.printf(
            "deleted %s; %s: %.1f MB -> %.1f MB%n", what, s.file(), size[0] / 1e6, size[1] / 1e6);
      }
      return 0;
    }

    /**
     * With --checkpoints, each deleted run's checkpoint directory and its {@code *.safetensors}
     * files — unless a run that stays in the store was written to the same directory (a {@code
     * train} run again under the same name), which is said and kept.
     */
    private Map<Path, List<Path>> checkpointFiles(RunQuery q, List<RunQuery.RunInfo> runs) {
      Map<Path, List<Path>> out = new LinkedHashMap<>();
      if (!checkpoints) {
        return out;
      }
      Set<String> going = new LinkedHashSet<>(runs.stream().map(RunQuery.RunInfo::id).toList());
      Map<Path, String> keptBy = new LinkedHashMap<>();
      for (RunQuery.RunInfo r : q.runs(RunQuery.Filter.all())) {
        Path dir = checkpointDir(q, r.id());
        if (dir != null && !going.contains(r.id())) {
          keptBy.putIfAbsent(dir, r.id());
        }
      }
      for (RunQuery.RunInfo r : runs) {
        Path dir = checkpointDir(q, r.id());
        if (dir == null || !Files.isDirectory(dir) || out.containsKey(dir)) {
          continue;
        }
        if (keptBy.containsKey(dir)) {
          System.out.println(
              "keeping " + dir + ": run " + keptBy.get(dir) + ", which stays, wrote there too");
          continue;
        }
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.safetensors")) {
          ds.forEach(found::add);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException("cannot list " + dir, e);
        }
        out.put(dir, found);
      }
      return out;
    }

    private static long sizeOf(Path p) {
      try {
        return Files.size(p);
      } catch (IOException e) {
        return 0;
      }
    }

    /** The files, then the directory if nothing else is left in it. */
    private static void deleteCheckpoints(Path dir, List<Path> files) {
      try {
        for (Path f : files) {
          Files.deleteIfExists(f);
        }
        try (DirectoryStream<Path> rest = Files.newDirectoryStream(dir)) {
          if (!rest.iterator().hasNext()) {
            Files.delete(dir);
          } else {
            System.out.println("kept " + dir + ": it holds other files than checkpoints");
          }
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot delete the checkpoints in " + dir, e);
      }
    }
  }

  /**
   * A run id and tags, given to the store ({@code tag} or {@code untag}); prints the run's tags.
   */
  abstract static class TagEdit implements Callable<Integer> {
    @picocli.CommandLine.Mixin StoreOption store = new StoreOption();

    @Parameters(index = "0", paramLabel = "ID", description = "run id or unique id prefix")
    String id;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "TAG", description = "tags")
    List<String> tags;

    abstract void apply(RunStore s, String runId, List<String> tags);

    @Override
    public Integer call() {
      try (RunStore s = RunStore.openExisting(store.store)) {
        String runId = resolve(s.query(), id).id();
        apply(s, runId, tags);
        List<String> now = s.query().run(runId).orElseThrow().tags();
        System.out.println(runId + ": " + (now.isEmpty() ? "(no tags)" : String.join(", ", now)));
      }
      return 0;
    }
  }

  @Command(
      name = "tag",
      mixinStandardHelpOptions = true,
      description = "Add tags to a run (shown in the runs list and filtered by --tag).")
  static final class Tag extends TagEdit {
    @Override
    void apply(RunStore s, String runId, List<String> tags) {
      s.tag(runId, tags);
    }
  }

  @Command(name = "untag", mixinStandardHelpOptions = true, description = "Remove tags from a run.")
  static final class Untag extends TagEdit {
    @Override
    void apply(RunStore s, String runId, List<String> tags) {
      s.untag(runId, tags);
    }
  }

  @Command(
      name = "note",
      mixinStandardHelpOptions = true,
      description = "Set a run's notes (free text; \"\" clears them).")
  static final class Note implements Callable<Integer> {
    @picocli.CommandLine.Mixin StoreOption store = new StoreOption();

    @Parameters(index = "0", paramLabel = "ID", description = "run id or unique id prefix")
    String id;

    @Parameters(index = "1", paramLabel = "TEXT", description = "the notes")
    String text;

    @Override
    public Integer call() {
      try (RunStore s = RunStore.openExisting(store.store)) {
        String runId = resolve(s.query(), id).id();
        s.setNotes(runId, text);
        String notes = s.query().run(runId).orElseThrow().notes();
        System.out.println(runId + ": " + (notes == null ? "(no notes)" : notes));
      }
      return 0;
    }
  }
}
