// Runs the graphql-http audit suite (the GraphQL-over-HTTP specification's
// conformance audits) against a running Carlot server:
//
//   node tests/conformance/audit.mjs http://127.0.0.1:8080/graphql
//
// Prints one line per audit that did not pass and a summary, and exits 1
// when a MUST audit fails (SHOULD and MAY audits only warn).
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}

const results = await auditServer({ url });
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  counts[r.status] = (counts[r.status] ?? 0) + 1;
  if (r.status !== 'ok') {
    const level = r.status === 'error' ? 'MUST' : r.status.toUpperCase();
    let detail = '';
    if (r.response) {
      detail = ` (status ${r.response.status})`;
    }
    console.log(`${level} ${r.id} ${r.name}: ${r.reason}${detail}`);
  }
}
console.log(`${counts.ok} passed, ${counts.error} failed, ${counts.warn + counts.notice} warnings`);
process.exit(counts.error > 0 ? 1 : 0);
