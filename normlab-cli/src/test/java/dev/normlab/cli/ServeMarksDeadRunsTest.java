package dev.normlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.normlab.track.store.RunStore;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run whose writer was SIGKILLed shows as killed on a dashboard that is already running. */
class ServeMarksDeadRunsTest {
  @TempDir Path dir;

  @Test
  void serveMarksRunsOfDeadWritersKilled() throws Exception {
    Path store = dir.resolve("runs.db");
    RunStore.open(store).close();
    long deadPid = deadPid();
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store);
        Statement st = c.createStatement()) {
      double now = System.currentTimeMillis() / 1000.0;
      st.execute(
          "INSERT INTO runs(id, name, status, started_at, heartbeat, pid, host) VALUES ('dead0001',"
              + " 'mnist-group', 'running', "
              + (now - 20)
              + ", "
              + (now - 1)
              + ", "
              + deadPid
              + ", '"
              + RunStore.hostName()
              + "')");
    }
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Thread serve =
        new Thread(() -> Main.run("serve", "--store", store.toString(), "--port", "" + port));
    serve.setDaemon(true);
    serve.start();
    String status = "running";
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (System.nanoTime() < deadline && !status.equals("killed")) {
      Thread.sleep(200);
      status = statusOf(store, "dead0001");
    }
    serve.interrupt();
    serve.join(10_000);
    assertEquals("killed", status);
  }

  /** Read with plain JDBC: opening a RunStore would mark the dead run itself. */
  private static String statusOf(Path store, String id) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + store);
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT status FROM runs WHERE id = '" + id + "'")) {
      return rs.next() ? rs.getString(1) : "missing";
    }
  }

  private static long deadPid() throws Exception {
    Process p =
        new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-version")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    p.waitFor();
    return p.pid();
  }
}
