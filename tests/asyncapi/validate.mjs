// Validates docs/asyncapi.json with AsyncAPI's own parser (npm @asyncapi/parser); exit 1 on any error.
// Usage: node tests/asyncapi/validate.mjs <document> (NODE_PATH or a node_modules beside it gives the parser).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.env.ASYNCAPI_TOOLS ? `${process.env.ASYNCAPI_TOOLS}/` : import.meta.url);
const { Parser } = require("@asyncapi/parser");
const text = readFileSync(process.argv[2], "utf-8");
const { document, diagnostics } = await new Parser().parse(text);
const errors = diagnostics.filter((d) => d.severity === 0);
for (const d of diagnostics) {
  console.log(`${["error", "warning", "info", "hint"][d.severity]} ${d.code} ${d.path.join(".")}: ${d.message}`);
}
if (!document || errors.length) {
  console.log(`invalid: ${errors.length} error(s)`);
  process.exit(1);
}
console.log(`valid AsyncAPI ${document.version()}: ${document.channels().length} channels, ${document.allMessages().length} messages`);
