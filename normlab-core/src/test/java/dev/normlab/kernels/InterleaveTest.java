package dev.normlab.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

class InterleaveTest {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  @Test
  void splitsIntoEvenAndOddLanesAndZipsBack() {
    int l = S.length();
    float[] row = new float[2 * l];
    for (int i = 0; i < row.length; i++) {
      row[i] = 100 + i;
    }
    FloatVector a = FloatVector.fromArray(S, row, 0), b = FloatVector.fromArray(S, row, l);
    float[] even = new float[l], odd = new float[l];
    for (int i = 0; i < l; i++) {
      even[i] = row[2 * i];
      odd[i] = row[2 * i + 1];
    }
    FloatVector e = a.rearrange(Interleave.EVEN, b), o = a.rearrange(Interleave.ODD, b);
    assertArrayEquals(even, e.toArray());
    assertArrayEquals(odd, o.toArray());
    float[] zipped = new float[2 * l];
    e.rearrange(Interleave.ZIP_LO, o).intoArray(zipped, 0);
    e.rearrange(Interleave.ZIP_HI, o).intoArray(zipped, l);
    assertArrayEquals(row, zipped);
  }
}
