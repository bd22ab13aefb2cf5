// Hugging Face's JavaScript tokenizer (@huggingface/tokenizers) on JSON-lines texts:
//   node hf_tokenize.mjs tokenizer.json texts.jsonl  ->  one JSON array of ids per line
import fs from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";

const [tokenizerJson, textsPath] = process.argv.slice(2);
const tokenizer = new Tokenizer(JSON.parse(fs.readFileSync(tokenizerJson, "utf8")), {});
const out = [];
for (const line of fs.readFileSync(textsPath, "utf8").split("\n")) {
  if (line === "") continue;
  out.push(JSON.stringify(tokenizer.encode(JSON.parse(line)).ids));
}
process.stdout.write(out.join("\n") + "\n");
