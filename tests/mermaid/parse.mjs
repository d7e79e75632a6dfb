// Parses Mermaid diagrams with mermaid's own parser: reads a JSON array of diagram sources on
// stdin, prints a JSON array with null for each valid one and the parser's message otherwise.
// Mermaid's sanitizer needs a DOM, which jsdom gives under node.
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const source of JSON.parse(input)) {
  try {
    await mermaid.parse(source);
    results.push(null);
  } catch (error) {
    results.push(String(error.message || error));
  }
}
process.stdout.write(JSON.stringify(results));
