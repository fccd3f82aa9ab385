// Usage: node check.mjs OLD.graphqls NEW.graphqls
// Lists every change between the two schemas, GraphQL Inspector's way, and
// exits 1 when one of them can break a client (a removed field or type, a
// new required argument, a changed type, ...), 2 when a schema does not load.
import { readFileSync } from 'node:fs';
import { buildSchema } from 'graphql';
import { diff, CriticalityLevel } from '@graphql-inspector/core';

const [oldPath, newPath] = process.argv.slice(2);
if (!oldPath || !newPath) {
  console.error('usage: node check.mjs OLD.graphqls NEW.graphqls');
  process.exit(2);
}
let before, after;
try {
  before = buildSchema(readFileSync(oldPath, 'utf8'));
  after = buildSchema(readFileSync(newPath, 'utf8'));
} catch (e) {
  console.error(`schema does not load: ${e.message}`);
  process.exit(2);
}
const changes = await diff(before, after);
const mark = { [CriticalityLevel.Breaking]: 'BREAKING', [CriticalityLevel.Dangerous]: 'dangerous', [CriticalityLevel.NonBreaking]: 'safe' };
for (const c of changes) {
  console.log(`${mark[c.criticality.level]}: ${c.message}`);
}
const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
console.log(`${changes.length} change(s), ${breaking.length} breaking`);
process.exit(breaking.length > 0 ? 1 : 0);
