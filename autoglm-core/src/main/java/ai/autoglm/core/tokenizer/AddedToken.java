package ai.autoglm.core.tokenizer;

/**
 * A token matched verbatim in the input before normalization and BPE (HF tokenizer.json {@code added_tokens};
 * GGUF token types CONTROL, UNKNOWN and USER_DEFINED).
 *
 * @param content the exact text
 * @param id      its id
 * @param special special/control: only split out when the caller asks to parse special tokens (HF
 *                {@code split_special_tokens=False} / llama.cpp {@code parse_special}); non-special added
 *                tokens are always split out, as llama.cpp's tokenizer_st_partition does for USER_DEFINED
 * @param lstrip  swallow whitespace to the left (HF AddedToken.lstrip)
 * @param rstrip  swallow whitespace to the right (HF AddedToken.rstrip)
 * @param singleWord only matched where no word character (letter, digit, '_') touches it on either side (HF
 *                AddedToken.single_word); used for ChatGLM3's bare-word specials "sop"/"eop", which must not be cut
 *                out of words such as "isopropyl"
 */
record AddedToken(String content, int id, boolean special, boolean lstrip, boolean rstrip, boolean singleWord) {
    AddedToken(String content, int id, boolean special, boolean lstrip, boolean rstrip) {
        this(content, id, special, lstrip, rstrip, false);
    }
}
