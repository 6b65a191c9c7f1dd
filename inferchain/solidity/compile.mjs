// Runs solcjs (wasm) on a standard-JSON input file and writes the output to a file.
// Files, not pipes: the solcjs CLI truncates piped stdout at 64 KiB.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const [, , solcPath, inputPath, outputPath] = process.argv;
const require = createRequire(import.meta.url);
const solc = require(solcPath);
const output = solc.compile(readFileSync(inputPath, "utf8"));
writeFileSync(outputPath, output);
writeFileSync(outputPath + ".version", solc.version());
