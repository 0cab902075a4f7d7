package dev.normlab.cli;

import dev.normlab.track.store.Export;
import dev.normlab.track.store.RunStore;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code normlab export}: a run or a group to CSV files or one JSON document. */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Export a run or a group of runs.",
      "csv: a directory with runs.csv, config.csv, metrics.csv, summary.csv, predictions.csv.",
      "json: one document with each run's config, summary, metrics and predictions."
    })
final class ExportCommand implements Callable<Integer> {
  static final class Which {
    @Option(names = "--run", required = true, description = "run id (or a unique prefix)")
    String run;

    @Option(names = "--group", required = true, description = "every run of this group")
    String group;
  }

  @ArgGroup(exclusive = true, multiplicity = "1")
  Which which;

  @Option(
      names = "--format",
      defaultValue = "csv",
      converter = FormatConverter.class,
      description = "csv or json (default: csv)")
  Export.Format format;

  /** A bad --format is a usage error (exit 2), said before the store is opened. */
  static final class FormatConverter implements ITypeConverter<Export.Format> {
    @Override
    public Export.Format convert(String s) {
      try {
        return Export.Format.parse(s);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  @Option(
      names = "--out",
      required = true,
      description = "output: a directory for csv, a file for json")
  Path out;

  @Option(
      names = "--store",
      defaultValue = "normlab-runs/runs.db",
      description = "run store file (default: ${DEFAULT-VALUE})")
  Path store;

  @Override
  public Integer call() throws Exception {
    try (RunStore s = RunStore.openExisting(store)) {
      List<Path> files =
          which.run != null
              ? Export.run(s.query(), which.run, format, out)
              : Export.group(s.query(), which.group, format, out);
      // a table's images are counted, not listed: feature maps make hundreds of them
      long images = files.stream().filter(f -> f.getFileName().toString().endsWith(".png")).count();
      for (Path p : files) {
        if (!p.getFileName().toString().endsWith(".png")) {
          System.out.println("wrote " + p);
        }
      }
      if (images > 0) {
        System.out.println("wrote " + images + " table images beside their tables' CSV files");
      }
    }
    return 0;
  }
}
