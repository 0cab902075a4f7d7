package dev.normlab.examples.figures;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.geom.Point2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * Draws which elements of an (N, C, H, W) tensor share one mean and variance under Batch, Layer,
 * Instance and Group Normalization: a cube per norm (C across, H·W down, N in depth) with the set
 * of one statistic shaded, as in Wu and He's Group Normalization paper.
 *
 * <p>Regenerate with {@code bash scripts/norm-axes.sh} (writes {@code docs/img/norm-axes.png}).
 */
public final class NormAxesFigure {
  private NormAxesFigure() {}

  public static final int PANEL_WIDTH = 300;
  public static final int WIDTH = 4 * PANEL_WIDTH;
  public static final int HEIGHT = 340;
  public static final Color HIGHLIGHT = new Color(0x3A78C4);

  /** Cells along each axis of the drawn cube. */
  private static final int NC = 6;

  private static final int NN = 6;
  private static final int NHW = 5;
  private static final int GROUPS = 3; // two channels per group in the GroupNorm panel
  private static final double CELL = 24; // pixels per cell along C and H·W
  private static final double DX = 11; // depth step (one sample) in x and y
  private static final double DY = -8;

  /** Whether element (n, c) (all H·W) is in the shaded set of one statistic. */
  interface Shaded {
    boolean contains(int n, int c);
  }

  private record Panel(String title, String averagesOver, Shaded shaded) {}

  private static final Panel[] PANELS = {
    new Panel("Batch Norm", "mean over (N, H, W) per channel", (n, c) -> c == 0),
    new Panel("Layer Norm", "mean over (C, H, W) per sample", (n, c) -> n == 0),
    new Panel("Instance Norm", "mean over (H, W) per sample, channel", (n, c) -> n == 0 && c == 0),
    new Panel(
        "Group Norm",
        "mean over (C/G, H, W) per sample, group",
        (n, c) -> n == 0 && c < NC / GROUPS)
  };

  public static BufferedImage draw() {
    BufferedImage img = Images.canvas(WIDTH, HEIGHT);
    Graphics2D g = Images.graphics(img);
    for (int i = 0; i < PANELS.length; i++) {
      drawPanel(g, PANELS[i], i * PANEL_WIDTH);
    }
    g.dispose();
    return img;
  }

  /** The screen point of cube corner (c, hw, n) in cell units, n = 0 the front face. */
  private static Point2D.Double at(double ox, double oy, double c, double hw, double n) {
    return new Point2D.Double(ox + c * CELL + n * DX, oy + hw * CELL + n * DY);
  }

  private static void drawPanel(Graphics2D g, Panel p, int x0) {
    double ox = x0 + 70;
    double oy = 110;
    // Front face (n = 0): cells (c, hw).
    for (int c = 0; c < NC; c++) {
      for (int hw = 0; hw < NHW; hw++) {
        quad(
            g,
            p.shaded().contains(0, c),
            1.0,
            at(ox, oy, c, hw, 0),
            at(ox, oy, c + 1, hw, 0),
            at(ox, oy, c + 1, hw + 1, 0),
            at(ox, oy, c, hw + 1, 0));
      }
    }
    // Top face (hw = 0): cells (c, n).
    for (int c = 0; c < NC; c++) {
      for (int n = 0; n < NN; n++) {
        quad(
            g,
            p.shaded().contains(n, c),
            0.85,
            at(ox, oy, c, 0, n),
            at(ox, oy, c + 1, 0, n),
            at(ox, oy, c + 1, 0, n + 1),
            at(ox, oy, c, 0, n + 1));
      }
    }
    // Right face (c = NC): cells (n, hw), showing the last channel.
    for (int n = 0; n < NN; n++) {
      for (int hw = 0; hw < NHW; hw++) {
        quad(
            g,
            p.shaded().contains(n, NC - 1),
            0.7,
            at(ox, oy, NC, hw, n),
            at(ox, oy, NC, hw, n + 1),
            at(ox, oy, NC, hw + 1, n + 1),
            at(ox, oy, NC, hw + 1, n));
      }
    }
    // Axis labels.
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
    Point2D.Double bottomMid = at(ox, oy, NC / 2.0, NHW, 0);
    g.drawString("C", (float) bottomMid.x - 4, (float) bottomMid.y + 18);
    Point2D.Double leftMid = at(ox, oy, 0, NHW / 2.0, 0);
    g.drawString("H, W", (float) leftMid.x - 42, (float) leftMid.y + 5);
    Point2D.Double depth = at(ox, oy, NC, NHW, NN / 2.0);
    g.drawString("N", (float) depth.x + 8, (float) depth.y + 10);
    // Title and what it averages over.
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
    g.drawString(p.title(), x0 + 20, 32);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.setColor(Color.DARK_GRAY);
    g.drawString(p.averagesOver(), x0 + 20, HEIGHT - 40);
    g.drawString("shaded: the elements of one mean/var", x0 + 20, HEIGHT - 22);
  }

  private static void quad(Graphics2D g, boolean shaded, double light, Point2D.Double... pts) {
    Polygon poly = new Polygon();
    for (Point2D.Double p : pts) {
      poly.addPoint((int) Math.round(p.x), (int) Math.round(p.y));
    }
    Color base = shaded ? HIGHLIGHT : new Color(0xF2F2F2);
    g.setColor(
        new Color(
            (int) (base.getRed() * light),
            (int) (base.getGreen() * light),
            (int) (base.getBlue() * light)));
    g.fillPolygon(poly);
    g.setColor(new Color(0x555555));
    g.setStroke(new BasicStroke(1f));
    g.drawPolygon(poly);
  }

  /** Writes the figure to {@code args[0]} (default {@code docs/img/norm-axes.png}). */
  public static void main(String[] args) {
    Path out = Path.of(args.length > 0 ? args[0] : "docs/img/norm-axes.png");
    Images.writePng(draw(), out);
    System.out.println("wrote " + out + " (" + WIDTH + "x" + HEIGHT + ")");
  }
}
