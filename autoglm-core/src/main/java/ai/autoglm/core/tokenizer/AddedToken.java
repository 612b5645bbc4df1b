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
 */
record AddedToken(String content, int id, boolean special, boolean lstrip, boolean rstrip) {
}
