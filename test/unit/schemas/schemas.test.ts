/**
 * The event contracts: documented schemas, generated types that match them, and the
 * evolution rule (each schema stays BACKWARD compatible with its previous version).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import avro from 'avsc';

const dir = new URL('../../../schemas/', import.meta.url);
const current = readdirSync(dir).filter((f) => f.endsWith('.avsc')).sort();
const history = readdirSync(new URL('history/', dir)).filter((f) => f.endsWith('.avsc'));

type Node = { type?: unknown; doc?: string; fields?: Array<{ name: string; doc?: string; type: unknown }>; namespace?: string; name?: string };

/** Every named type and field in a schema, depth first. */
function visit(schema: unknown, fn: (node: Node, path: string) => void, path = ''): void {
  if (Array.isArray(schema)) return schema.forEach((s) => visit(s, fn, path));
  if (schema === null || typeof schema !== 'object') return;
  const node = schema as Node;
  fn(node, path);
  for (const f of node.fields ?? []) visit(f.type, fn, `${path}.${f.name}`);
  for (const key of ['items', 'values'] as const) visit((node as Record<string, unknown>)[key], fn, path);
  if (typeof node.type === 'object') visit(node.type, fn, path);
}

describe('schemas', () => {
  it('defines the seven records of the contract', () => {
    const names = current.map((f) => avro.Type.forSchema(JSON.parse(readFileSync(new URL(f, dir), 'utf8'))).name);
    assert.deepEqual(names.sort(), [
      'quartile.beacons.BeaconBatch',
      'quartile.events.AdEvent',
      'quartile.events.AdSession',
      'quartile.events.DeadLetter',
      'quartile.events.EnrichedAdEvent',
      'quartile.events.RejectedEvent',
      'quartile.live.AdBreakCue',
    ]);
  });

  for (const file of current) {
    it(`${file}: has a namespace and a doc on every field and named type`, () => {
      const schema = JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Node;
      assert.ok(schema.namespace, 'namespace');
      visit(schema, (node, path) => {
        if (node.name !== undefined) assert.ok(node.doc, `type ${node.name} at ${path || 'root'} has a doc`);
        for (const f of node.fields ?? []) assert.ok(f.doc && f.doc.length > 3, `field ${path}.${f.name} has a doc`);
      });
    });

    it(`${file}: stays BACKWARD compatible with every earlier version in schemas/history`, () => {
      const base = file.replace(/\.avsc$/, '');
      const versions = history.filter((h) => h.startsWith(`${base}.v`)).sort((a, b) => Number(/\.v(\d+)\./.exec(a)![1]) - Number(/\.v(\d+)\./.exec(b)![1]));
      assert.ok(versions.length > 0, `schemas/history has a version of ${base}`);
      const reader = avro.Type.forSchema(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
      for (const old of versions) {
        const writer = avro.Type.forSchema(JSON.parse(readFileSync(new URL(`history/${old}`, dir), 'utf8')));
        // BACKWARD: consumers on the new schema can read data written with the old one.
        assert.doesNotThrow(() => reader.createResolver(writer), `${file} can read data written with ${old}`);
        const sample = writer.random();
        assert.doesNotThrow(() => reader.fromBuffer(writer.toBuffer(sample), reader.createResolver(writer)));
      }
    });
  }

  it('catches an incompatible change (a new field without a default)', () => {
    const old = JSON.parse(readFileSync(new URL('ad-event.avsc', dir), 'utf8')) as avro.schema.RecordType;
    const changed: avro.schema.RecordType = { ...old, fields: [...old.fields, { name: 'mandatoryNew', type: 'string' }] };
    assert.throws(() => avro.Type.forSchema(changed).createResolver(avro.Type.forSchema(old)));
  });

  it('has generated TypeScript types that match the schemas (run `npm run schemas:types`)', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-schema-types.ts', '--check'], {
      cwd: new URL('../../../', import.meta.url),
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stderr);
  });
});
