package ai.autoglm.core.tokenizer;

import ai.autoglm.core.format.ModelFormatException;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece {@code tokenizer.model} (a serialized {@code sentencepiece.ModelProto},
 * google/sentencepiece src/sentencepiece_model.proto) that encoding needs, read with a small protobuf wire-format
 * reader rather than generated code, since only a dozen fields matter:
 * <pre>
 * ModelProto      1 pieces (repeated SentencePiece), 2 trainer_spec, 3 normalizer_spec
 * SentencePiece   1 piece (string), 2 score (float), 3 type (enum, default NORMAL=1)
 * TrainerSpec     3 model_type (UNIGRAM=1, BPE=2, WORD=3, CHAR=4), 35 byte_fallback,
 *                 40 unk_id (default 0), 41 bos_id (1), 42 eos_id (2)
 * NormalizerSpec  1 name, 2 precompiled_charsmap, 3 add_dummy_prefix (default true),
 *                 4 remove_extra_whitespaces (true), 5 escape_whitespaces (true)
 * </pre>
 * Unknown fields are skipped, as protobuf readers do.
 */
record SentencePieceModel(List<Piece> pieces, int modelType, boolean byteFallback, int unkId, int bosId, int eosId,
                          String normalizerName, int charsmapBytes, boolean addDummyPrefix,
                          boolean removeExtraWhitespaces, boolean escapeWhitespaces) {

    // ModelProto.SentencePiece.Type
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    static final int MODEL_UNIGRAM = 1;
    static final int MODEL_BPE = 2;

    record Piece(String piece, float score, int type) {
    }

    private static final int MAX_PIECES = 16 * 1024 * 1024;

    static SentencePieceModel parse(byte[] data, Path file) {
        Reader r = new Reader(data, 0, data.length, file);
        List<Piece> pieces = new ArrayList<>();
        int modelType = MODEL_UNIGRAM;
        boolean byteFallback = false;
        int unk = 0;
        int bos = 1;
        int eos = 2;
        String name = "";
        int charsmap = 0;
        boolean dummyPrefix = true;
        boolean removeSpaces = true;
        boolean escape = true;
        while (r.more()) {
            long tag = r.varint("ModelProto field tag");
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 1 && wire == 2) {
                if (pieces.size() >= MAX_PIECES) {
                    throw r.bad("more than " + MAX_PIECES + " pieces");
                }
                pieces.add(readPiece(r.sub("pieces[" + pieces.size() + "]"), pieces.size()));
            } else if (field == 2 && wire == 2) {
                Reader t = r.sub("trainer_spec");
                while (t.more()) {
                    long tt = t.varint("TrainerSpec field tag");
                    int f = (int) (tt >>> 3);
                    int w = (int) (tt & 7);
                    if (w != 0) {
                        t.skip(w, "TrainerSpec field " + f);
                        continue;
                    }
                    long v = t.varint("TrainerSpec field " + f);
                    switch (f) {
                        case 3 -> modelType = (int) v;
                        case 35 -> byteFallback = v != 0;
                        case 40 -> unk = (int) v; // int32: negative values arrive as 64-bit two's complement
                        case 41 -> bos = (int) v;
                        case 42 -> eos = (int) v;
                        default -> { }
                    }
                }
            } else if (field == 3 && wire == 2) {
                Reader ns = r.sub("normalizer_spec");
                while (ns.more()) {
                    long nt = ns.varint("NormalizerSpec field tag");
                    int f = (int) (nt >>> 3);
                    int w = (int) (nt & 7);
                    if (f == 1 && w == 2) {
                        name = ns.string("normalizer_spec.name");
                    } else if (f == 2 && w == 2) {
                        charsmap = ns.sub("normalizer_spec.precompiled_charsmap").length();
                    } else if (f >= 3 && f <= 5 && w == 0) {
                        boolean v = ns.varint("NormalizerSpec field " + f) != 0;
                        if (f == 3) {
                            dummyPrefix = v;
                        } else if (f == 4) {
                            removeSpaces = v;
                        } else {
                            escape = v;
                        }
                    } else {
                        ns.skip(w, "NormalizerSpec field " + f);
                    }
                }
            } else {
                r.skip(wire, "ModelProto field " + field);
            }
        }
        if (pieces.isEmpty()) {
            throw new ModelFormatException(file, "no pieces: not a SentencePiece model");
        }
        return new SentencePieceModel(List.copyOf(pieces), modelType, byteFallback, unk, bos, eos, name, charsmap,
                dummyPrefix, removeSpaces, escape);
    }

    private static Piece readPiece(Reader r, int index) {
        String piece = null;
        float score = 0f;
        int type = NORMAL;
        while (r.more()) {
            long tag = r.varint("SentencePiece field tag");
            int f = (int) (tag >>> 3);
            int w = (int) (tag & 7);
            if (f == 1 && w == 2) {
                piece = r.string("pieces[" + index + "].piece");
            } else if (f == 2 && w == 5) {
                score = Float.intBitsToFloat(r.fixed32("pieces[" + index + "].score"));
            } else if (f == 3 && w == 0) {
                type = (int) r.varint("pieces[" + index + "].type");
            } else {
                r.skip(w, "pieces[" + index + "] field " + f);
            }
        }
        if (piece == null || piece.isEmpty()) {
            throw r.bad("pieces[" + index + "] has no piece text");
        }
        if (type < NORMAL || type > BYTE) {
            throw r.bad("pieces[" + index + "] ('" + piece + "') has unknown type " + type);
        }
        return new Piece(piece, Float.isNaN(score) ? Float.NEGATIVE_INFINITY : score, type);
    }

    /** Protobuf wire format over a byte range; every read is bounds-checked against the enclosing message. */
    private static final class Reader {
        private final byte[] data;
        private int pos;
        private final int end;
        private final Path file;

        Reader(byte[] data, int pos, int end, Path file) {
            this.data = data;
            this.pos = pos;
            this.end = end;
            this.file = file;
        }

        ModelFormatException bad(String problem) {
            return new ModelFormatException(file, "SentencePiece model: " + problem);
        }

        boolean more() {
            return pos < end;
        }

        int length() {
            return end - pos;
        }

        long varint(String what) {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (pos >= end) {
                    throw bad(what + ": truncated varint at byte " + pos);
                }
                byte b = data[pos++];
                v |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return v;
                }
            }
            throw bad(what + ": varint longer than 10 bytes at byte " + pos);
        }

        int fixed32(String what) {
            if (end - pos < 4) {
                throw bad(what + ": truncated at byte " + pos);
            }
            int v = (data[pos] & 0xFF) | (data[pos + 1] & 0xFF) << 8 | (data[pos + 2] & 0xFF) << 16
                    | (data[pos + 3] & 0xFF) << 24;
            pos += 4;
            return v;
        }

        Reader sub(String what) {
            long len = varint(what + " length");
            if (len < 0 || len > end - pos) {
                throw bad(what + ": length " + len + " runs past the end of its message (" + (end - pos) + " bytes left)");
            }
            Reader r = new Reader(data, pos, pos + (int) len, file);
            pos += (int) len;
            return r;
        }

        String string(String what) {
            Reader r = sub(what);
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(java.nio.ByteBuffer.wrap(data, r.pos, r.end - r.pos)).toString();
            } catch (CharacterCodingException e) {
                throw bad(what + " is not valid UTF-8");
            }
        }

        void skip(int wire, String what) {
            switch (wire) {
                case 0 -> varint(what);
                case 1 -> {
                    if (end - pos < 8) {
                        throw bad(what + ": truncated at byte " + pos);
                    }
                    pos += 8;
                }
                case 2 -> sub(what);
                case 5 -> fixed32(what);
                default -> throw bad(what + ": unsupported wire type " + wire + " at byte " + pos);
            }
        }
    }
}
