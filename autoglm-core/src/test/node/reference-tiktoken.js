// Reference for the GLM-4 (tiktoken) tokenizer tests: the `tiktoken` npm package, the WASM build of OpenAI's
// Rust tiktoken that THUDM/glm-4-9b-chat tokenization_chatglm.py (ChatGLM4Tokenizer) runs through its Python
// binding.
// Usage:
//   node reference-tiktoken.js export <encoder> <out-file>
//       writes the ranks the package ships for <encoder> (cl100k_base, o200k_base, ...) as a tiktoken rank file,
//       one "base64(token bytes) rank" line per token (the format of GLM-4's tokenizer.model), and prints
//       {"count": n, "max_rank": r, "pat_str": "..."}
//   node reference-tiktoken.js encode <rank-file>  < request.json  > response.json
//       request:  {"pat_str": "...", "special_tokens": {"<|endoftext|>": id, ...}, "special": bool, "texts": [...]}
//       response: {"results": [{"ids": [...], "bytes": [...]}]}   (bytes: decode(ids) as a byte array)
//       special=true: encode(text, allowed_special="all"); false: encode_ordinary(text), which is what
//       ChatGLM4Tokenizer does with encode(text, disallowed_special=()).
"use strict";
const fs = require("fs");
const { Tiktoken } = require("tiktoken/lite");

const [mode, arg1, arg2] = process.argv.slice(2);

if (mode === "export") {
  const enc = require(`tiktoken/encoders/${arg1}.json`);
  // The shipped ranks are compressed: each line is "<marker> <first rank> <b64> <b64> ..." with consecutive ranks.
  const out = [];
  let maxRank = -1;
  for (const line of enc.bpe_ranks.split("\n")) {
    if (!line) continue;
    const [, offsetStr, ...tokens] = line.split(" ");
    const offset = Number.parseInt(offsetStr, 10);
    tokens.forEach((t, i) => {
      out.push(`${t} ${offset + i}`);
      maxRank = Math.max(maxRank, offset + i);
    });
  }
  fs.writeFileSync(arg2, out.join("\n") + "\n");
  process.stdout.write(JSON.stringify({ count: out.length, max_rank: maxRank, pat_str: enc.pat_str }));
} else if (mode === "encode") {
  const request = JSON.parse(fs.readFileSync(0, "utf8"));
  const ranks = fs.readFileSync(arg1, "utf8");
  const enc = new Tiktoken(ranks, request.special_tokens || {}, request.pat_str);
  const results = request.texts.map((text) => {
    const ids = request.special ? enc.encode(text, "all") : enc.encode_ordinary(text);
    return { ids: Array.from(ids), bytes: Array.from(enc.decode(ids)) };
  });
  enc.free();
  process.stdout.write(JSON.stringify({ results }));
} else {
  process.stderr.write("usage: reference-tiktoken.js export <encoder> <out-file> | encode <rank-file>\n");
  process.exit(2);
}
