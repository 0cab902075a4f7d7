package dev.normlab.cli;

import dev.normlab.track.store.RunStore;
import dev.normlab.track.web.DashboardServer;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code normlab serve}: the dashboard over a run store, live while runs train. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve the dashboard (runs, charts, parallel coordinates, predictions) over a run store.",
      "Binds 127.0.0.1 unless --host says otherwise; stop with Ctrl-C."
    })
final class ServeCommand implements Callable<Integer> {
  @Option(
      names = "--store",
      defaultValue = "normlab-runs/runs.db",
      description = "run store file (default: ${DEFAULT-VALUE})")
  Path store;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      description = "address to listen on (default: ${DEFAULT-VALUE}, this machine only)")
  String host;

  @Option(names = "--port", defaultValue = "8080", description = "port (default: ${DEFAULT-VALUE})")
  int port;

  @Option(
      names = "--token",
      description = "require this token on every request (?token=, or header X-Normlab-Token)")
  String token;

  @Option(
      names = "--threads",
      defaultValue = "8",
      description = "request threads (default: ${DEFAULT-VALUE})")
  int threads;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    RunStore.requireExisting(store);
    DashboardServer server =
        DashboardServer.start(new DashboardServer.Options(store, host, port, token, threads));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    out.println(
        "normlab dashboard: " + server.url() + (token == null ? "" : "?token=<your token>"));
    out.println("store:             " + store.toAbsolutePath());
    if (!server.isLoopback()) {
      err.println(
          "warning: listening on "
              + host
              + ", reachable from other machines"
              + (token == null
                  ? "; anyone who reaches it can read every run. Use --token to require a token."
                  : "; requests need the token (sent in clear over HTTP)."));
    }
    out.flush();
    err.flush();
    // The server reads the store read-only, so a run whose writer was SIGKILLed would show as
    // running for ever: every 30 s the dead ones are marked killed through a writing connection.
    ScheduledExecutorService reaper =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "normlab-serve-reaper");
              t.setDaemon(true);
              return t;
            });
    reaper.scheduleWithFixedDelay(() -> markDeadRuns(err), 0, 30, TimeUnit.SECONDS);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                }));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      // stopped from inside the JVM (tests, an embedding program): shut down as on Ctrl-C
      Thread.currentThread().interrupt();
    } finally {
      reaper.shutdownNow();
      server.close();
    }
    return 0;
  }

  private void markDeadRuns(PrintWriter err) {
    try (RunStore s = RunStore.openExisting(store)) {
      s.markDeadRuns();
    } catch (RuntimeException e) {
      err.println("warning: could not mark dead runs in " + store + ": " + e.getMessage());
      err.flush();
    }
  }
}
