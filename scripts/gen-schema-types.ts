/**
 * `npm run schemas:types`: generates schemas/types.ts, the TypeScript types of the Avro
 * records in schemas/*.avsc, so the event contracts are written once (a unit test
 * fails when the generated file is stale).
 *
 * Mapping (avsc's default JavaScript representation): null → null, boolean → boolean,
 * int/long/float/double → number, string → string, bytes/fixed → Buffer,
 * enum → string union, array → readonly T[], map → Readonly<Record<string, T>>,
 * union [null, T] → T | null, record → interface. Logical types are documented,
 * not converted (Quartile reads them as their underlying type).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

type Schema = string | Schema[] | { type: string | Schema; name?: string; namespace?: string; doc?: string; [k: string]: unknown };

interface Named {
  readonly fullName: string;
  readonly code: string;
}

const dir = new URL('../schemas/', import.meta.url);

function generate(): string {
  const named = new Map<string, Named>();

  function qualify(name: string, namespace: string | undefined): string {
    return name.includes('.') || namespace === undefined ? name : `${namespace}.${name}`;
  }

  function typeOf(schema: Schema, namespace: string | undefined): string {
    if (typeof schema === 'string') {
      switch (schema) {
        case 'null':
          return 'null';
        case 'boolean':
          return 'boolean';
        case 'int':
        case 'long':
        case 'float':
        case 'double':
          return 'number';
        case 'string':
          return 'string';
        case 'bytes':
          return 'Buffer';
        default: {
          const ref = [...named.values()].find((n) => n.fullName === qualify(schema, namespace) || n.fullName.endsWith(`.${schema}`));
          if (ref === undefined) throw new Error(`Unknown Avro type reference ${schema}`);
          return ref.fullName.split('.').at(-1)!;
        }
      }
    }
    if (Array.isArray(schema)) return schema.map((s) => typeOf(s, namespace)).join(' | ');
    const ns = (schema.namespace as string | undefined) ?? namespace;
    switch (schema.type) {
      case 'record':
      case 'error': {
        const name = schema.name!;
        const fullName = qualify(name, ns);
        const fields = schema['fields'] as Array<{ name: string; type: Schema; doc?: string }>;
        const body = fields
          .map((f) => `  /** ${f.doc ?? ''} */\n  readonly ${f.name}: ${typeOf(f.type, ns)};`)
          .join('\n');
        register(fullName, `/** ${schema.doc ?? ''} (Avro ${fullName}) */\nexport interface ${name} {\n${body}\n}`);
        return name;
      }
      case 'enum': {
        const name = schema.name!;
        const fullName = qualify(name, ns);
        const symbols = schema['symbols'] as string[];
        register(
          fullName,
          `/** ${schema.doc ?? ''} (Avro ${fullName}) */\nexport type ${name} =\n${symbols.map((s) => `  | '${s}'`).join('\n')};\n\n/** Every ${name}, in schema order. */\nexport const ${name.replace(/^./, (c) => c.toUpperCase())}Values = [${symbols.map((s) => `'${s}'`).join(', ')}] as const satisfies readonly ${name}[];`,
        );
        return name;
      }
      case 'fixed':
        return 'Buffer';
      case 'array':
        return `readonly (${typeOf(schema['items'] as Schema, ns)})[]`;
      case 'map':
        return `Readonly<Record<string, ${typeOf(schema['values'] as Schema, ns)}>>`;
      default:
        return typeOf(schema.type as Schema, ns);
    }
  }

  function register(fullName: string, code: string): void {
    const existing = named.get(fullName);
    if (existing !== undefined && existing.code !== code) {
      throw new Error(`Avro type ${fullName} is defined twice with different shapes; keep its copies identical.`);
    }
    named.set(fullName, { fullName, code });
  }

  const files = readdirSync(dir).filter((f) => f.endsWith('.avsc')).sort();
  for (const file of files) typeOf(JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Schema, undefined);
  const names = [...named.values()].map((n) => n.fullName.split('.').at(-1)!);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new Error(`Two Avro types share the short name ${duplicate}`);

  return `// Generated from schemas/*.avsc by \`npm run schemas:types\`. Do not edit by hand.\n\n${[...named.values()]
    .map((n) => n.code)
    .join('\n\n')}\n`;
}

const output = generate();
if (process.argv.includes('--check')) {
  const current = readFileSync(new URL('types.ts', dir), 'utf8');
  if (current !== output) {
    process.stderr.write('schemas/types.ts is stale: run `npm run schemas:types`.\n');
    process.exit(1);
  }
} else {
  writeFileSync(new URL('types.ts', dir), output);
  process.stdout.write('wrote schemas/types.ts\n');
}

