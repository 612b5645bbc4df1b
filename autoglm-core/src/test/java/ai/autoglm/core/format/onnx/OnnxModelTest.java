package ai.autoglm.core.format.onnx;

import ai.autoglm.core.format.ModelFormatException;
import ai.autoglm.core.format.protobuf.ProtobufReader;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The protobuf wire reader and the ONNX reader on messages built by an independent encoder ({@link ProtoBytes}), and
 * on hostile bytes: every malformed input must end in one {@link ModelFormatException}, never another exception.
 */
class OnnxModelTest {
    private static final Path FILE = Path.of("test.onnx");

    /** A small ModelProto: two initializers (raw_data and packed float_data), a MatMul, a Constant, inputs/outputs. */
    static byte[] smallModel() {
        ProtoBytes raw = new ProtoBytes().packedVarints(1, 2, 3).varintField(2, 1).stringField(8, "w")
                .bytesField(9, ProtoBytes.floatsLe(1, 2, 3, 4, 5, 6));
        ProtoBytes typed = new ProtoBytes().varintField(1, 2).varintField(2, 1).stringField(8, "encoder.layer.0.x.bias")
                .bytesField(4, ProtoBytes.floatsLe(-1.5f, 0.25f));
        ProtoBytes constValue = new ProtoBytes().varintField(2, 7).packedVarints(7, 8, -1);
        ProtoBytes constNode = new ProtoBytes().stringField(2, "c_out").stringField(3, "/Constant").stringField(4, "Constant")
                .messageField(5, new ProtoBytes().stringField(1, "value").messageField(5, constValue.varintField(1, 2)));
        ProtoBytes matmul = new ProtoBytes().stringField(1, "x").stringField(1, "w").stringField(2, "y")
                .stringField(3, "/layer/MatMul").stringField(4, "MatMul")
                .messageField(5, new ProtoBytes().stringField(1, "alpha").fixed32Field(2, Float.floatToIntBits(0.5f)))
                .messageField(5, new ProtoBytes().stringField(1, "axis").varintField(3, -1));
        ProtoBytes graph = new ProtoBytes().messageField(1, constNode).messageField(1, matmul).stringField(2, "g")
                .messageField(5, raw).messageField(5, typed)
                .messageField(11, new ProtoBytes().stringField(1, "x")).messageField(12, new ProtoBytes().stringField(1, "y"))
                .varintField(99, 12345); // an unknown field, skipped
        return new ProtoBytes().varintField(1, 7).stringField(2, "pytorch").stringField(3, "2.0.1")
                .messageField(8, new ProtoBytes().varintField(2, 14)).messageField(7, graph).bytes();
    }

    @Test
    void readsAWellFormedModel() {
        try (OnnxModel m = OnnxModel.read(FILE, MemorySegment.ofArray(smallModel()))) {
            assertThat(m.irVersion()).isEqualTo(7);
            assertThat(m.producer()).isEqualTo("pytorch 2.0.1");
            assertThat(m.inputs()).containsExactly("x");
            assertThat(m.outputs()).containsExactly("y");
            OnnxTensor w = m.initializers().get("w");
            assertThat(w.dims()).containsExactly(2, 3);
            assertThat(w.floats()).containsExactly(1, 2, 3, 4, 5, 6);
            assertThat(w.floatTensor().getFloat(4)).isEqualTo(5f);
            assertThat(m.initializers().get("encoder.layer.0.x.bias").floats()).containsExactly(-1.5f, 0.25f);
            assertThat(m.nodes()).hasSize(2);
            OnnxNode c = m.nodes().get(0);
            assertThat(c.opType()).isEqualTo("Constant");
            assertThat(c.tensorAttributes().get("value").numbers()).containsExactly(8, -1);
            OnnxNode mm = m.nodes().get(1);
            assertThat(mm.inputs()).containsExactly("x", "w");
            assertThat(mm.floatAttributes()).containsEntry("alpha", 0.5f);
            assertThat(mm.intAttributes()).containsEntry("axis", -1L);
        }
    }

    @Test
    void varintsAndBounds() {
        ProtoBytes p = new ProtoBytes().varintField(1, -1).varintField(2, Long.MAX_VALUE).varintField(3, 300);
        ProtobufReader r = new ProtobufReader(FILE, MemorySegment.ofArray(p.bytes()), "m");
        assertThat(r.nextField()).isEqualTo(1);
        assertThat(r.readVarint()).isEqualTo(-1L);
        r.nextField();
        assertThat(r.readVarint()).isEqualTo(Long.MAX_VALUE);
        r.nextField();
        assertThat(r.readVarint()).isEqualTo(300);
        assertThat(r.hasNext()).isFalse();

        assertHostile(new byte[] {(byte) 0x08, (byte) 0x80}, "varint runs past the end");
        byte[] eleven = new byte[12];
        eleven[0] = 0x08;
        for (int i = 1; i < 12; i++) eleven[i] = (byte) 0x80;
        assertHostile(eleven, "varint");
        assertHostile(new ProtoBytes().raw((byte) 0x0A, (byte) 0x7F, (byte) 1).bytes(), "declares 127 bytes");
        assertHostile(new byte[] {(byte) 0x0B}, "groups are not supported");
        assertHostile(new byte[] {(byte) 0x07}, "invalid field number 0");
        assertHostile(new byte[] {(byte) 0x0D, 1, 2}, "fixed32 runs past the end");
    }

    private static void assertHostile(byte[] bytes, String message) {
        assertThatThrownBy(() -> {
            ProtobufReader r = new ProtobufReader(FILE, MemorySegment.ofArray(bytes), "m");
            while (r.hasNext()) {
                r.nextField();
                r.skip();
            }
        }).isInstanceOf(ModelFormatException.class).hasMessageContaining(message).hasMessageContaining("test.onnx");
    }

    @Test
    void refusesInconsistentTensors() {
        ProtoBytes shortData = new ProtoBytes().packedVarints(1, 2, 3).varintField(2, 1).stringField(8, "w")
                .bytesField(9, ProtoBytes.floatsLe(1, 2));
        assertThatThrownBy(() -> OnnxModel.read(FILE, MemorySegment.ofArray(model(shortData))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("'w'").hasMessageContaining("needs 24 bytes");
        ProtoBytes huge = new ProtoBytes().packedVarints(1, Long.MAX_VALUE, 4).varintField(2, 1).stringField(8, "h");
        assertThatThrownBy(() -> OnnxModel.read(FILE, MemorySegment.ofArray(model(huge))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("overflows");
        ProtoBytes external = new ProtoBytes().packedVarints(1, 1).varintField(2, 1).stringField(8, "e").varintField(14, 1);
        assertThatThrownBy(() -> OnnxModel.read(FILE, MemorySegment.ofArray(model(external))))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("external");
        assertThatThrownBy(() -> OnnxModel.read(FILE, MemorySegment.ofArray(new ProtoBytes().varintField(1, 7).bytes())))
                .isInstanceOf(ModelFormatException.class).hasMessageContaining("no graph");
    }

    private static byte[] model(ProtoBytes initializer) {
        return new ProtoBytes().messageField(7, new ProtoBytes().messageField(5, initializer)).bytes();
    }

    /** Seeded mutations (byte flips, truncations, inserted bytes): the reader succeeds or throws ModelFormatException. */
    @Test
    void mutatedModelsFailCleanly() {
        byte[] good = smallModel();
        Random rnd = new Random(20241121);
        int refused = 0;
        for (int i = 0; i < 3000; i++) {
            byte[] bad = mutate(good, rnd);
            try (OnnxModel m = OnnxModel.read(FILE, MemorySegment.ofArray(bad))) {
                for (OnnxTensor t : m.initializers().values()) {
                    if (t.dataType() == OnnxTensor.FLOAT) t.floats();
                }
            } catch (ModelFormatException e) {
                assertThat(e.getMessage()).startsWith("test.onnx");
                refused++;
            }
        }
        assertThat(refused).isGreaterThan(1000);
    }

    private static byte[] mutate(byte[] good, Random rnd) {
        byte[] b = good.clone();
        switch (rnd.nextInt(3)) {
            case 0 -> {
                for (int k = 1 + rnd.nextInt(3); k > 0; k--) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            case 1 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
            default -> {
                int at = rnd.nextInt(b.length);
                byte[] c = new byte[b.length + 1];
                System.arraycopy(b, 0, c, 0, at);
                c[at] = (byte) rnd.nextInt(256);
                System.arraycopy(b, at, c, at + 1, b.length - at);
                b = c;
            }
        }
        return b;
    }
}
