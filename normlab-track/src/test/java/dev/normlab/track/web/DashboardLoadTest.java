package dev.normlab.track.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 50 clients poll the API while 3 writer threads log metrics into the store, for
 * -Dnormlab.loadtest.seconds (default 10; the documented figures come from 60). No request may
 * fail; the figures are printed, not asserted.
 */
class DashboardLoadTest {
  static final int CLIENTS = 50;
  static final int WRITERS = 3;

  @TempDir Path dir;

  @Test
  void fiftyClientsPollWhileThreeRunsWrite() throws Exception {
    int seconds = Integer.getInteger("normlab.loadtest.seconds", 10);
    Path store = StoreFixture.create(dir);
    List<String> live = List.of("live0", "live1", "live2");
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store)) {
      for (int i = 0; i < WRITERS; i++) {
        try (PreparedStatement ps =
            c.prepareStatement(
                "INSERT INTO runs (id, name, grp, status, started_at, heartbeat)"
                    + " VALUES (?, ?, 'live', 'running', ?, ?)")) {
          double now = System.currentTimeMillis() / 1000.0;
          ps.setString(1, live.get(i));
          ps.setString(2, "live-" + i);
          ps.setDouble(3, now);
          ps.setDouble(4, now);
          ps.executeUpdate();
        }
      }
    }
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicLong rowsWritten = new AtomicLong();
    ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    List<Thread> writers = new ArrayList<>();
    for (int w = 0; w < WRITERS; w++) {
      String run = live.get(w);
      writers.add(
          Thread.ofPlatform()
              .name("writer-" + w)
              .start(() -> write(store, run, deadline, rowsWritten, errors)));
    }
    try (DashboardServer server =
        DashboardServer.start(new DashboardServer.Options(store, "127.0.0.1", 0, null, 8))) {
      String base = "http://127.0.0.1:" + server.port();
      String[] targets = {
        "/api/runs",
        "/api/metrics?run=live0,live1,live2&key=train/loss&max_points=500",
        "/api/keys",
        "/api/metrics?run=run0none,run1batch,run2instance,run3layer,run4group&key=train/loss&x=epoch",
        "/api/predictions?run=run2instance&mistakes=1&sort=confidence&size=50",
        "/api/confusion?run=run1batch",
        "/api/runs?status=running&sort=started_at",
      };
      HttpClient http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(10))
              .build();
      long[][] latencies = new long[CLIENTS][];
      List<Thread> clients = new ArrayList<>();
      for (int k = 0; k < CLIENTS; k++) {
        int client = k;
        clients.add(
            Thread.ofPlatform()
                .name("client-" + k)
                .start(
                    () -> {
                      long[] lat = new long[1024];
                      int n = 0;
                      int i = client;
                      while (System.nanoTime() < deadline) {
                        String target = targets[i++ % targets.length];
                        long t0 = System.nanoTime();
                        try {
                          HttpResponse<String> r =
                              http.send(
                                  HttpRequest.newBuilder(URI.create(base + target))
                                      .timeout(Duration.ofSeconds(30))
                                      .build(),
                                  HttpResponse.BodyHandlers.ofString());
                          if (r.statusCode() != 200) {
                            errors.add(target + " -> " + r.statusCode() + " " + r.body());
                          }
                        } catch (Exception e) {
                          errors.add(target + " -> " + e);
                        }
                        if (n == lat.length) {
                          lat = Arrays.copyOf(lat, n * 2);
                        }
                        lat[n++] = System.nanoTime() - t0;
                      }
                      latencies[client] = Arrays.copyOf(lat, n);
                    }));
      }
      for (Thread t : clients) {
        t.join();
      }
      for (Thread t : writers) {
        t.join();
      }
      long[] all = Arrays.stream(latencies).flatMapToLong(Arrays::stream).sorted().toArray();
      // The live runs grew while being polled.
      HttpResponse<String> last =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(base + "/api/metrics?run=live0&key=train/loss&max_points=2"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      System.out.printf(
          Locale.ROOT,
          "load test: %d s, %d clients, %d writers: %d requests (%.0f/s), latency p50 %.1f ms,"
              + " p99 %.1f ms, max %.1f ms; %d metric rows written; errors %d%n",
          seconds,
          CLIENTS,
          WRITERS,
          all.length,
          all.length / (double) seconds,
          percentile(all, 0.50),
          percentile(all, 0.99),
          all.length == 0 ? 0 : all[all.length - 1] / 1e6,
          rowsWritten.get(),
          errors.size());
      assertEquals(List.of(), errors.stream().limit(10).toList(), "failed requests");
      assertTrue(all.length > CLIENTS, "requests served: " + all.length);
      assertTrue(rowsWritten.get() > 0, "the writers wrote nothing");
      assertTrue(last.body().contains("\"total\":"), last.body());
      assertTrue(!last.body().contains("\"total\":0,"), "live run has no points: " + last.body());
    }
  }

  static double percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
  }

  /** Logs one step (loss and epoch) per transaction, like a training run, with a heartbeat. */
  static void write(
      Path store,
      String run,
      long deadline,
      AtomicLong rows,
      ConcurrentLinkedQueue<String> errors) {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store)) {
      try (Statement st = c.createStatement()) {
        st.execute("PRAGMA busy_timeout = 10000");
      }
      c.setAutoCommit(false);
      try (PreparedStatement metric =
              c.prepareStatement("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)");
          PreparedStatement beat =
              c.prepareStatement("UPDATE runs SET heartbeat = ? WHERE id = ?")) {
        long step = 0;
        while (System.nanoTime() < deadline) {
          double now = System.currentTimeMillis() / 1000.0;
          StoreFixture.metric(metric, run, "train/loss", step, Math.exp(-step / 500.0), now);
          StoreFixture.metric(metric, run, "epoch", step, step / 100, now);
          metric.executeBatch();
          beat.setDouble(1, now);
          beat.setString(2, run);
          beat.executeUpdate();
          c.commit();
          rows.addAndGet(2);
          step++;
          Thread.sleep(5);
        }
      }
    } catch (Exception e) {
      errors.add("writer " + run + ": " + e);
    }
  }
}
