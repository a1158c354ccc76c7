// Mutations of a policy file, as fast-check arbitraries: its YAML structure (keys dropped, added, retyped, duplicated),
// YAML's own features (tags, anchors and aliases, merge keys, directives, several documents), huge and deeply nested
// values, and identity patterns, catastrophic ones included. A policy may well still be valid after a mutation: what
// must never happen is a crash, a hang or an internal error — while reading it, or while matching identities with it.
import fc from 'fast-check';
import { parseDocument } from 'yaml';
import type { JsonPath } from './json-text';

/** Patterns a policy author (or an attacker who can edit a repository's tightening policy) might write. */
export const IDENTITY_PATTERNS = [
  '(a+)+$',
  '(a|a)*b',
  '(.*)*x',
  '(.*a){20}',
  '(x+x+)+y',
  '^(([a-z])+.)+[A-Z]([a-z])+$',
  'https://github\\.com/(.*)*/\\.github/workflows/(.*)*\\.yml@(.*)*!',
  '(https?://)*(.+)+@refs/heads/main',
  '(a)\\1',
  '(?=https)https://.*',
  '(?<=x)y',
  '(?<name>.*)',
  '\\p{L}+',
  '(?i)https://.*',
  '[',
  '(',
  '',
  '.*',
  '.{0,1000000}',
  'a{1000000}',
  '(?:a{1000}){1000}',
  '[\\s\\S]*',
  'https://github\\.com/acme/app/\\.github/workflows/build\\.yml@refs/heads/main|.*',
  '\\',
  '\u0000',
  'x'.repeat(100_000),
];

/** SANs an identity pattern is matched against after a policy is read: long near-misses make backtracking explode. */
export const ADVERSARIAL_SANS = [
  'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main',
  'https://github.com/acme/platform/.github/workflows/sign.yml@refs/heads/main',
  `https://github.com/${'a'.repeat(48)}!`,
  `${'a'.repeat(64)}!`,
  `${'x'.repeat(64)}`,
  '',
];

const KEY_VALUES: Record<string, unknown[]> = {
  version: [1, 2, '1', 1.0, 0, -1, null, 'one', true],
  'min-approvals': [0, -1, 1, 2, 1.5, '1', 2 ** 53, Number.POSITIVE_INFINITY, null, true],
  'max-age': [
    '30d',
    '0d',
    '0',
    0,
    -1,
    '1e9d',
    '9999999999d',
    '99999999999d',
    '30D',
    '30 d',
    '30d ',
    '1w',
    1.5,
    2 ** 53,
    '30dd',
  ],
  issuer: [
    'https://token.actions.githubusercontent.com',
    'http://token.actions.githubusercontent.com',
    'https://token.actions.githubusercontent.com/',
    'https://',
    '',
    'https://token.actions.githubusercontent.com\n',
  ],
  san: ['', ' ', 'https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main', '*', 'x'.repeat(100_000)],
  'source-repository': ['https://github.com/acme/app', 'https://github.com/acme/app/', 'acme/app', ''],
  'trusted-root': ['public-good', '', '/etc/passwd', '../../../../etc/shadow', '/dev/zero', '.', 'nonexistent.json'],
  artifacts: [[], ['*'], ['**/*'], [''], ['['], [`${'*'.repeat(50)}x`]],
  repositories: [[], ['acme/app'], ['acme/*'], ['ACME/APP'], [''], ['acme/app/extra']],
  'protected-branches': [[], ['*'], ['refs/heads/main'], ['main'], [''], [`${'*'.repeat(60)}x`], ['{a,b}'], ['[']],
  'unidentified-co-authors': ['refuse', 'allow', 'Allow', '', null],
  'non-human-co-authors': [[], ['a@b'], ['@'], ['x'.repeat(10000)]],
};

const TEXT_HOWS = [
  'duplicate-key',
  'tag-str',
  'tag-int',
  'tag-binary',
  'tag-set',
  'tag-omap',
  'tag-timestamp',
  'tag-custom',
  'tag-js-function',
  'anchor-alias',
  'billion-laughs',
  'undefined-alias',
  'self-alias',
  'merge-key',
  'flow-style',
  'two-documents',
  'document-end',
  'bom',
  'crlf',
  'tabs',
  'nul-byte',
  'invalid-utf8',
  'yaml-1.1-directive',
  'tag-directive',
  'deep-nesting',
  'huge-string',
  'many-keys',
  'empty',
  'comments-only',
  'complex-key',
  'yaml-1.1-booleans',
  'special-numbers',
  'quoted-keys',
  'truncate',
] as const;

export type PolicyOp =
  | { op: 'drop'; path: JsonPath }
  | { op: 'retype'; path: JsonPath; value: unknown }
  | { op: 'add-key'; path: JsonPath; key: string; value: unknown }
  | { op: 'value'; path: JsonPath; pick: number }
  | { op: 'pattern'; rule: 'build' | 'sign'; pattern: string }
  | { op: 'text'; how: (typeof TEXT_HOWS)[number]; pick: number };

export interface PolicyMutation {
  seed: number;
  ops: PolicyOp[];
}

interface PolicyShape {
  fields: JsonPath[];
  objects: JsonPath[];
  keyed: JsonPath[];
}

export function policyShapeOf(text: string): PolicyShape {
  const data = parseDocument(text).toJS() as unknown;
  const shape: PolicyShape = { fields: [], objects: [], keyed: [] };
  const walk = (value: unknown, path: JsonPath) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    shape.objects.push(path);
    for (const [key, child] of Object.entries(value)) {
      shape.fields.push([...path, key]);
      if (key in KEY_VALUES) shape.keyed.push([...path, key]);
      walk(child, [...path, key]);
    }
  };
  walk(data, []);
  // Keys that are absent from a seed can still be given a value.
  for (const path of [
    ['deploy', 'max-age'],
    ['deploy', 'artifacts'],
    ['review', 'min-approvals'],
  ] as JsonPath[]) {
    if (!shape.keyed.some((p) => p.join('.') === path.join('.'))) shape.keyed.push(path);
  }
  return shape;
}

const pick = fc.nat({ max: 0x7fffffff });
const yamlValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.string({ maxLength: 8 }),
  fc.constant([]),
  fc.constant({}),
  fc.jsonValue({ maxDepth: 2 }),
);

export function policyOpArbitrary(shape: PolicyShape): fc.Arbitrary<PolicyOp> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('drop' as const), path: fc.constantFrom(...shape.fields) }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('retype' as const),
        path: fc.constantFrom(...shape.fields),
        value: yamlValue,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('add-key' as const),
        path: fc.constantFrom(...shape.objects),
        key: fc.oneof(
          fc.constantFrom(
            'extra',
            'san',
            'san-pattern',
            'issuer',
            'deploy',
            '<<',
            '__proto__',
            'constructor',
            'Version',
            'min_approvals',
          ),
          fc.string({ minLength: 1, maxLength: 8 }),
        ),
        value: yamlValue,
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({ op: fc.constant('value' as const), path: fc.constantFrom(...shape.keyed), pick }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('pattern' as const),
        rule: fc.constantFrom('build', 'sign'),
        pattern: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...IDENTITY_PATTERNS) },
          { weight: 1, arbitrary: fc.stringMatching(/^[()a-z.*+?|\\[\]{}0-9^$]{1,24}$/) },
        ),
      }),
    },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('text' as const), how: fc.constantFrom(...TEXT_HOWS), pick }) },
  );
}

export function policyMutationArbitrary(texts: string[]): fc.Arbitrary<PolicyMutation> {
  const shapes = texts.map(policyShapeOf);
  return fc.nat({ max: texts.length - 1 }).chain((seed) =>
    fc.record({
      seed: fc.constant(seed),
      ops: fc.array(policyOpArbitrary(shapes[seed]!), { minLength: 1, maxLength: 3 }),
    }),
  );
}

/** The mutated policy's text: structural operations on the parsed document, then text-level ones. */
export function applyPolicyMutation(mutation: PolicyMutation, texts: string[]): { text: Buffer; notes: string[] } {
  const doc = parseDocument(texts[mutation.seed]!, { uniqueKeys: false });
  const notes: string[] = [];
  const textOps: Extract<PolicyOp, { op: 'text' }>[] = [];
  for (const op of mutation.ops) {
    if (op.op === 'text') {
      textOps.push(op);
      continue;
    }
    try {
      notes.push(applyDocumentOp(doc, op));
    } catch {
      // An earlier operation made the path's parent a scalar or a list: this one has nowhere to go.
      notes.push(`${op.op}: no such mapping`);
    }
  }
  let text: string;
  try {
    text = doc.toString({ lineWidth: 0 });
  } catch {
    text = texts[mutation.seed]!;
  }
  let bytes: Buffer = Buffer.from(text, 'utf8');
  for (const op of textOps) {
    bytes = applyTextOp(bytes.toString('utf8'), op);
    notes.push(`text ${op.how}`);
  }
  return { text: bytes, notes };
}

function applyDocumentOp(doc: ReturnType<typeof parseDocument>, op: Exclude<PolicyOp, { op: 'text' }>): string {
  switch (op.op) {
    case 'drop':
      doc.deleteIn(op.path);
      return `drop ${op.path.join('.')}`;
    case 'retype':
      doc.setIn(op.path, structuredClone(op.value));
      return `retype ${op.path.join('.')} = ${short(op.value)}`;
    case 'add-key':
      if (doc.getIn(op.path) !== undefined || op.path.length === 0)
        doc.setIn([...op.path, op.key], structuredClone(op.value));
      return `add-key ${[...op.path, op.key].join('.')} = ${short(op.value)}`;
    case 'value': {
      const values = KEY_VALUES[String(op.path[op.path.length - 1])] ?? [null];
      const value = values[op.pick % values.length];
      doc.setIn(op.path, value);
      return `value ${op.path.join('.')} = ${short(value)}`;
    }
    case 'pattern':
      doc.deleteIn(['identities', op.rule, 'san']);
      doc.setIn(['identities', op.rule, 'san-pattern'], op.pattern);
      return `pattern identities.${op.rule}.san-pattern = ${short(op.pattern)}`;
  }
}

function applyTextOp(text: string, op: Extract<PolicyOp, { op: 'text' }>): Buffer {
  const b = (s: string) => Buffer.from(s, 'utf8');
  const lines = text.split('\n');
  const keyLines = lines.map((l, i) => [l, i] as const).filter(([l]) => /^\s*[a-z-]+:/.test(l));
  const [keyLine, keyIndex] = keyLines[op.pick % Math.max(1, keyLines.length)] ?? ['version: 1', 0];
  const valueLines = keyLines.filter(([l]) => /:\s+\S/.test(l) && !/:\s+[|>]/.test(l));
  const [valueLine, valueIndex] = valueLines[op.pick % Math.max(1, valueLines.length)] ?? ['version: 1', 0];
  const withLine = (index: number, line: string) =>
    [...lines.slice(0, index), line, ...lines.slice(index + 1)].join('\n');
  const tagValue = (tag: string) => withLine(valueIndex, valueLine.replace(/:\s+/, `: ${tag} `));
  switch (op.how) {
    case 'duplicate-key':
      return b([...lines.slice(0, keyIndex + 1), keyLine, ...lines.slice(keyIndex + 1)].join('\n'));
    case 'tag-str':
      return b(tagValue('!!str'));
    case 'tag-int':
      return b(tagValue('!!int'));
    case 'tag-binary':
      return b(tagValue('!!binary'));
    case 'tag-set':
      return b(tagValue('!!set'));
    case 'tag-omap':
      return b(tagValue('!!omap'));
    case 'tag-timestamp':
      return b(tagValue('!!timestamp'));
    case 'tag-custom':
      return b(tagValue('!twokey'));
    case 'tag-js-function':
      return b(tagValue('!!js/function'));
    case 'anchor-alias': {
      const [, indent = '', key = 'x'] = /^(\s*)([a-z-]+):/.exec(valueLine) ?? [];
      const anchored = withLine(valueIndex, valueLine.replace(/:\s+/, ': &fuzz '));
      return b(`${anchored}\n${indent}${key}-alias: *fuzz`);
    }
    case 'billion-laughs': {
      const levels = Array.from({ length: 10 }, (_, i) =>
        i === 0
          ? 'l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'
          : `l${i}: &l${i} [${Array(10)
              .fill(`*l${i - 1}`)
              .join(', ')}]`,
      );
      return b(`${text}\n${levels.join('\n')}\n`);
    }
    case 'undefined-alias':
      return b(withLine(valueIndex, valueLine.replace(/:\s+.*$/, ': *nowhere')));
    case 'self-alias':
      return b(withLine(valueIndex, valueLine.replace(/:\s+.*$/, ': &self [*self]')));
    case 'merge-key':
      return b(
        text
          .replace(
            /^identities:\n/m,
            'base: &base\n  issuer: https://token.actions.githubusercontent.com\nidentities:\n',
          )
          .replace(/^(\s+)build:\n/m, '$1build:\n$1  <<: *base\n'),
      );
    case 'flow-style':
      try {
        return b(JSON.stringify(parseDocument(text, { uniqueKeys: false }).toJS({ maxAliasCount: 100 }) ?? null));
      } catch {
        return b(text); // an alias cycle or an alias bomb: no JSON spelling
      }
    case 'two-documents':
      return b(`${text}\n---\n${text}`);
    case 'document-end':
      return b(`${text}\n...\nversion: 2\n`);
    case 'bom':
      return Buffer.concat([Buffer.of(0xef, 0xbb, 0xbf), b(text)]);
    case 'crlf':
      return b(text.replace(/\n/g, '\r\n'));
    case 'tabs':
      return b(text.replace(/^ {2}/gm, '\t'));
    case 'nul-byte':
      return b(withLine(valueIndex, `${valueLine}\u0000`));
    case 'invalid-utf8':
      return Buffer.concat([b(text), Buffer.of(0xff, 0xfe, 0x0a)]);
    case 'yaml-1.1-directive':
      return b(`%YAML 1.1\n---\n${text}`);
    case 'tag-directive':
      return b(`%TAG ! tag:evil.example,2024:\n---\n${text}`);
    case 'deep-nesting': {
      const depth = [100, 1000, 10000][op.pick % 3]!;
      return b(withLine(valueIndex, valueLine.replace(/:\s+.*$/, `: ${'['.repeat(depth)}${']'.repeat(depth)}`)));
    }
    case 'huge-string':
      return b(
        withLine(valueIndex, valueLine.replace(/:\s+.*$/, `: ${'a'.repeat([1000, 100_000, 3_000_000][op.pick % 3]!)}`)),
      );
    case 'many-keys':
      return b(`${text}\nextra:\n${Array.from({ length: 20_000 }, (_, i) => `  k${i}: ${i}`).join('\n')}\n`);
    case 'empty':
      return b('');
    case 'comments-only':
      return b(lines.map((l) => `# ${l}`).join('\n'));
    case 'complex-key':
      return b(`${text}\n? [identities, build]\n: x\n`);
    case 'yaml-1.1-booleans':
      return b(text.replace(/: (true|false)\b/g, (_, v) => `: ${v === 'true' ? 'yes' : 'off'}`));
    case 'special-numbers':
      return b(
        withLine(
          valueIndex,
          valueLine.replace(
            /:\s+.*$/,
            `: ${['.inf', '-.inf', '.nan', '0x10', '0o17', '1_000', '1e400', '-0', '0.1e1'][op.pick % 9]}`,
          ),
        ),
      );
    case 'quoted-keys':
      return b(text.replace(/^(\s*)([a-z-]+):/gm, (_, indent, key) => `${indent}"${key}":`));
    case 'truncate':
      return b(text.slice(0, op.pick % Math.max(1, text.length)));
  }
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
