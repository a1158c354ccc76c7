// Mutations of a `twokey` command line, as fast-check arbitraries: flags dropped, repeated, reordered, spelt
// `--flag=value`, unknown or without their value; identities, issuers, repositories and artifacts changed (a near miss
// must never verify); files that are directories, empty, endless, missing or not what the flag expects. Whether the
// mutated line still asks what the base asked is read from the line itself, as the CLI parses it (argvMeaning).
import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import fc from 'fast-check';
import { IDENTITY_PATTERNS } from './policy-mutations';

export type Semantics = 'same' | 'different' | 'unknown';

const IDENTITY_HOWS = [
  'suffix',
  'prefix',
  'upper',
  'trailing-slash',
  'drop-last',
  'homoglyph',
  'newline',
  'nul',
  'space',
  'star',
  'empty',
  'huge',
] as const;
const ARTIFACT_HOWS = [
  'other-digest',
  'upper-hex',
  'empty-digest',
  'short-digest',
  'sha1',
  'sha384-of-nothing',
  'directory',
  'dev-null',
  'missing',
  'long-path',
  'nul-in-path',
  'trailing-slash',
] as const;
const FILE_HOWS = [
  'missing',
  'directory',
  'dev-null',
  'dev-zero',
  'empty-file',
  'other-file',
  'nul-in-path',
  'long-path',
  'too-large',
] as const;
const REGEXP_HOWS = ['escaped-exact', 'escaped-prefix', 'any', 'pattern'] as const;

export type ArgvOp =
  | { op: 'drop'; pick: number }
  | { op: 'dup'; pick: number }
  | { op: 'swap'; pick: number }
  | { op: 'equals-form'; pick: number }
  | { op: 'unknown-flag'; flag: string }
  | { op: 'dangling-flag'; flag: string }
  | { op: 'double-dash'; pick: number }
  | { op: 'identity'; how: (typeof IDENTITY_HOWS)[number] }
  | { op: 'issuer'; how: (typeof IDENTITY_HOWS)[number] }
  | { op: 'regexp'; how: (typeof REGEXP_HOWS)[number]; pattern: string }
  | { op: 'artifact'; how: (typeof ARTIFACT_HOWS)[number] }
  | { op: 'file'; flag: string; how: (typeof FILE_HOWS)[number] }
  | { op: 'repo'; value: string }
  | { op: 'help' }
  | { op: 'command'; value: string }
  | { op: 'many-args'; count: number }
  | { op: 'huge-arg'; size: number };

export interface ArgvMutation {
  /** Which base command line: a verify-bundle seed (by index) or, past them, the verify chain. */
  base: number;
  ops: ArgvOp[];
}

const pick = fc.nat({ max: 0x7fffffff });

export const argvOpArbitrary: fc.Arbitrary<ArgvOp> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drop' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('dup' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('swap' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('equals-form' as const), pick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('unknown-flag' as const),
      flag: fc.constantFrom(
        '--now',
        '--offline',
        '-x',
        '---bundle',
        '--bundle-',
        '--BUNDLE',
        '--certificate-identity-regex',
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('dangling-flag' as const),
      flag: fc.constantFrom('--bundle', '--certificate-identity', '--trusted-root', '--key', '--policy', '--repo'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('double-dash' as const), pick }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('identity' as const), how: fc.constantFrom(...IDENTITY_HOWS) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('issuer' as const), how: fc.constantFrom(...IDENTITY_HOWS) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('regexp' as const),
      how: fc.constantFrom(...REGEXP_HOWS),
      pattern: fc.constantFrom(...IDENTITY_PATTERNS),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('artifact' as const), how: fc.constantFrom(...ARTIFACT_HOWS) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('file' as const),
      flag: fc.constantFrom('--bundle', '--trusted-root', '--key', '--policy'),
      how: fc.constantFrom(...FILE_HOWS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('repo' as const),
      value: fc.constantFrom(
        'acme/other',
        'ACME/app',
        'acme/app/',
        'acme/app-fork',
        'acme',
        '',
        'acme/app\n',
        '../acme/app',
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'help' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('command' as const),
      value: fc.constantFrom(
        'VERIFY-BUNDLE',
        'verify',
        'verify-bundle',
        'help',
        '',
        '--version',
        'verify-bundle\u0000',
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('many-args' as const), count: fc.constantFrom(100, 5_000) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('huge-arg' as const), size: fc.constantFrom(5_000, 1_000_000) }),
  },
);

export function argvMutationArbitrary(bases: number): fc.Arbitrary<ArgvMutation> {
  return fc.record({
    base: fc.nat({ max: bases - 1 }),
    ops: fc.array(argvOpArbitrary, { minLength: 1, maxLength: 3 }),
  });
}

/** Files an argv mutation may point a flag at, made once per run in a scratch directory. */
export interface ArgvFiles {
  dir: string;
  empty: string;
  tooLarge: string;
  otherFile: string;
  /** A different artifact's sha256, and an artifact file whose content is not what was signed. */
  otherDigest: string;
}

const FLAGS_WITH_VALUES = new Set([
  '--bundle',
  '--certificate-identity',
  '--certificate-identity-regexp',
  '--certificate-oidc-issuer',
  '--key',
  '--trusted-root',
  '--policy',
  '--repo',
]);

/** The argv after the operations, and whether it still asks what the base asked. */
export function applyArgvMutation(
  base: string[],
  ops: ArgvOp[],
  files: ArgvFiles,
): { argv: string[]; semantics: Semantics; notes: string[] } {
  let argv = [...base];
  const notes: string[] = [];
  const valueIndex = (flag: string) => argv.indexOf(flag) + 1;
  const artifactIndex = () => {
    for (let i = 1; i < argv.length; i++) {
      if (FLAGS_WITH_VALUES.has(argv[i]!)) i++;
      else if (!argv[i]!.startsWith('-')) return i;
    }
    return -1;
  };
  for (const op of ops) {
    const note = (text: string) => notes.push(text);
    switch (op.op) {
      case 'drop': {
        const i = 1 + (op.pick % Math.max(1, argv.length - 1));
        note(`drop argv[${i}] ${short(argv[i])}`);
        argv.splice(i, 1);
        break;
      }
      case 'dup': {
        // A flag repeated with its value: parseArgs keeps the last, which is the same value.
        const i = 1 + (op.pick % Math.max(1, argv.length - 1));
        const withValue = FLAGS_WITH_VALUES.has(argv[i]!) ? argv.slice(i, i + 2) : [argv[i]!];
        argv.splice(i, 0, ...withValue);
        note(`dup ${withValue.map(short).join(' ')}`);
        break;
      }
      case 'swap': {
        // Swap two flag/value pairs: the same command.
        const pairs = argv.map((a, i) => (FLAGS_WITH_VALUES.has(a) ? i : -1)).filter((i) => i > 0);
        if (pairs.length >= 2) {
          const a = pairs[op.pick % pairs.length]!;
          const b = pairs[(op.pick + 1) % pairs.length]!;
          const [first, second] = [argv.slice(a, a + 2), argv.slice(b, b + 2)];
          argv.splice(a, 2, ...second);
          argv.splice(b, 2, ...first);
          note(`swap ${first[0]} and ${second[0]}`);
        }
        break;
      }
      case 'equals-form': {
        const flags = argv.map((a, i) => (FLAGS_WITH_VALUES.has(a) ? i : -1)).filter((i) => i > 0);
        if (flags.length > 0) {
          const i = flags[op.pick % flags.length]!;
          argv.splice(i, 2, `${argv[i]}=${argv[i + 1]}`);
          note(`${argv[i]!.slice(0, 40)} (--flag=value)`);
        }
        break;
      }
      case 'unknown-flag':
        argv.splice(1, 0, op.flag);
        note(`unknown flag ${op.flag}`);
        break;
      case 'dangling-flag':
        argv.push(op.flag);
        note(`dangling ${op.flag}`);
        break;
      case 'double-dash': {
        const i = 1 + (op.pick % Math.max(1, argv.length - 1));
        argv.splice(i, 0, '--');
        note(`-- at ${i}`);
        break;
      }
      case 'identity':
        if (
          rewriteFlag(argv, '--certificate-identity', (value) => ['--certificate-identity', nearMiss(value, op.how)])
        ) {
          notes.push(`--certificate-identity ${op.how}`);
        }
        break;
      case 'issuer':
        if (
          rewriteFlag(argv, '--certificate-oidc-issuer', (value) => [
            '--certificate-oidc-issuer',
            nearMiss(value, op.how),
          ])
        ) {
          notes.push(`--certificate-oidc-issuer ${op.how}`);
        }
        break;
      case 'regexp': {
        let shown = '';
        const rewritten = rewriteFlag(argv, '--certificate-identity', (san) => {
          const escaped = san.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
          shown =
            op.how === 'escaped-exact'
              ? escaped
              : op.how === 'escaped-prefix'
                ? escaped.slice(0, -6)
                : op.how === 'any'
                  ? '.*'
                  : op.pattern;
          return ['--certificate-identity-regexp', shown];
        });
        if (rewritten) note(`--certificate-identity-regexp ${op.how} ${short(shown)}`);
        break;
      }
      case 'artifact': {
        const i = artifactIndex();
        if (i > 0) {
          argv[i] = artifactNearMiss(argv[i]!, op.how, files);
          note(`artifact ${op.how} ${short(argv[i])}`);
        }
        break;
      }
      case 'file':
        if (rewriteFlag(argv, op.flag, () => [op.flag, fileNearMiss(op.how, files)])) note(`${op.flag} ${op.how}`);
        break;
      case 'repo':
        if (rewriteFlag(argv, '--repo', () => ['--repo', op.value])) {
          notes.push(`--repo ${JSON.stringify(op.value)}`);
        }
        break;
      case 'help':
        argv.splice(1 + (argv.length > 2 ? 1 : 0), 0, '--help');
        note('--help');
        break;
      case 'command':
        note(`command ${JSON.stringify(op.value)}`);
        argv[0] = op.value;
        break;
      case 'many-args': {
        const extra =
          argv[0] === 'verify' ? ['--bundle', files.empty] : ['--bundle', argv[valueIndex('--bundle')] ?? 'x'];
        argv = [...argv, ...Array.from({ length: op.count }, () => extra).flat()];
        note(`${op.count} more ${extra.join(' ')}`);
        break;
      }
      case 'huge-arg':
        argv.splice(1, 0, `--${'x'.repeat(op.size)}`);
        note(`a ${op.size}-character flag`);
        break;
    }
  }
  return { argv, semantics: argvMeaning(base, argv), notes };
}

const COMMAND_OPTIONS: Record<string, ParseArgsConfig['options']> = {
  'verify-bundle': {
    bundle: { type: 'string' },
    'certificate-identity': { type: 'string' },
    'certificate-identity-regexp': { type: 'string' },
    'certificate-oidc-issuer': { type: 'string' },
    key: { type: 'string' },
    'trusted-root': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  verify: {
    policy: { type: 'string' },
    bundle: { type: 'string', multiple: true },
    repo: { type: 'string' },
    'trusted-root': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
};

/**
 * Whether a mutated command line asks what the base asked, read as the CLI reads it (node's parseArgs, the last of a
 * repeated flag): `different` when a value the verdict depends on now names something else (an accept is then a
 * finding), `same` when every value is the base's, `unknown` when it may go either way (a broader pattern, `--help`,
 * another command, a line the CLI will refuse to parse).
 */
export function argvMeaning(base: string[], mutated: string[]): Semantics {
  const options = COMMAND_OPTIONS[base[0]!];
  if (!options || mutated[0] !== base[0]) return 'unknown';
  let was: ReturnType<typeof parseArgs>;
  let now: ReturnType<typeof parseArgs>;
  try {
    was = parseArgs({ args: base.slice(1), options, allowPositionals: true, strict: true });
    now = parseArgs({ args: mutated.slice(1), options, allowPositionals: true, strict: true });
  } catch {
    return 'unknown';
  }
  if (now.values.help) return 'unknown';
  const meanings: Semantics[] = [];
  const value = (v: unknown) => JSON.stringify(v ?? null);
  for (const flag of ['certificate-oidc-issuer', 'key', 'trusted-root', 'policy']) {
    if (value(was.values[flag]) === value(now.values[flag])) continue;
    // Without --trusted-root, or with `public-good`, the embedded root: the real bundles' own.
    const embedded = flag === 'trusted-root' && (now.values[flag] === undefined || now.values[flag] === 'public-good');
    meanings.push(embedded ? 'unknown' : 'different');
  }
  // A repository is named case-insensitively, as GitHub names it.
  const repo = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
  if (repo(was.values.repo) !== repo(now.values.repo)) meanings.push('different');
  // The same file twice is one file (verify reads each bundle once).
  const bundles = (v: unknown) => value([...new Set([v ?? []].flat().map((b) => resolve(String(b))))].sort());
  if (bundles(was.values.bundle) !== bundles(now.values.bundle)) meanings.push('different');
  meanings.push(identityMeaning(was.values, now.values));
  // An artifact path is resolved (`app.tar.gz/` is `app.tar.gz`); a digest's hex may be either case.
  const artifact = (p: string) => (/^sha\d+:/i.test(p) ? p.toLowerCase() : resolve(p));
  const [a, b] = [was.positionals.map(artifact), now.positionals.map(artifact)];
  if (a.length !== b.length) meanings.push('unknown');
  else if (a.some((x, i) => x !== b[i]))
    meanings.push(b.some((x) => /^sha\d+:[0-9a-f]*$/.test(x) || x.startsWith('/')) ? 'different' : 'unknown');
  return meanings.includes('different') ? 'different' : meanings.every((m) => m === 'same') ? 'same' : 'unknown';
}

/**
 * The expected SAN: the same string, or a literal pattern (an escaped string) of the same string (same) or of another
 * (different); any other pattern may match more (unknown). Patterns are never run here: a catastrophic one would hang
 * the fuzzer, not twokey.
 */
function identityMeaning(was: Record<string, unknown>, now: Record<string, unknown>): Semantics {
  const san = was['certificate-identity'];
  const exact = now['certificate-identity'];
  const pattern = now['certificate-identity-regexp'];
  if (san === undefined && was['certificate-identity-regexp'] === undefined) {
    return exact === undefined && pattern === undefined ? 'same' : 'unknown';
  }
  if (typeof san !== 'string') return 'unknown';
  if (pattern === undefined) return exact === san ? 'same' : 'different';
  if (exact !== undefined || typeof pattern !== 'string') return 'unknown';
  const literal = /^(?:\\[.*+?^${}()|[\]\\/-]|[^.*+?^${}()|[\]\\])*$/.test(pattern);
  if (!literal) return 'unknown';
  return pattern.replace(/\\(.)/g, '$1') === san ? 'same' : 'different';
}

/**
 * Rewrites every occurrence of a flag and its value (`--flag V` and `--flag=V`: parseArgs keeps the last, so a
 * change to any one but the last would change nothing). Returns whether there was one.
 */
function rewriteFlag(argv: string[], flag: string, rewrite: (value: string) => [string, string]): boolean {
  let found = false;
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === flag && i + 1 < argv.length) {
      const [name, value] = rewrite(argv[i + 1]!);
      argv.splice(i, 2, name, value);
      found = true;
      i++;
    } else if (argv[i]!.startsWith(`${flag}=`)) {
      const [name, value] = rewrite(argv[i]!.slice(flag.length + 1));
      argv[i] = `${name}=${value}`;
      found = true;
    }
  }
  return found;
}

function nearMiss(value: string, how: (typeof IDENTITY_HOWS)[number]): string {
  switch (how) {
    case 'suffix':
      return `${value}-evil`;
    case 'prefix':
      return `x${value}`;
    case 'upper':
      return value.toUpperCase() === value ? value.toLowerCase() : value.toUpperCase();
    case 'trailing-slash':
      return `${value}/`;
    case 'drop-last':
      return value.slice(0, -1);
    case 'homoglyph':
      return value.replace(/o/, '\u043e');
    case 'newline':
      return `${value}\n`;
    case 'nul':
      return `${value}\u0000`;
    case 'space':
      return ` ${value}`;
    case 'star':
      return '*';
    case 'empty':
      return '';
    case 'huge':
      return value.repeat(Math.ceil(100_000 / Math.max(1, value.length)));
  }
}

function artifactNearMiss(value: string, how: (typeof ARTIFACT_HOWS)[number], files: ArgvFiles): string {
  switch (how) {
    case 'other-digest':
      return `sha256:${files.otherDigest}`;
    case 'upper-hex':
      return value.includes(':') ? value.toUpperCase() : value;
    case 'empty-digest':
      return 'sha256:';
    case 'short-digest':
      return value.includes(':') ? value.slice(0, -2) : `sha256:${files.otherDigest.slice(2)}`;
    case 'sha1':
      return 'sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709';
    case 'sha384-of-nothing':
      return 'sha384:38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b';
    case 'directory':
      return files.dir;
    case 'dev-null':
      return '/dev/null';
    case 'missing':
      return `${files.dir}/missing.bin`;
    case 'long-path':
      return `${files.dir}/${'x'.repeat(5000)}`;
    case 'nul-in-path':
      return `${files.empty}\u0000`;
    case 'trailing-slash':
      return `${value}/`;
  }
}

function fileNearMiss(how: (typeof FILE_HOWS)[number], files: ArgvFiles): string {
  switch (how) {
    case 'missing':
      return `${files.dir}/missing.json`;
    case 'directory':
      return files.dir;
    case 'dev-null':
      return '/dev/null';
    case 'dev-zero':
      return '/dev/zero';
    case 'empty-file':
      return files.empty;
    case 'other-file':
      return files.otherFile;
    case 'nul-in-path':
      return `${files.empty}\u0000x`;
    case 'long-path':
      return `${files.dir}/${'y'.repeat(5000)}`;
    case 'too-large':
      return files.tooLarge;
  }
}

function short(value: string | undefined): string {
  const text = JSON.stringify(value ?? '');
  return text.length > 50 ? `${text.slice(0, 47)}..."` : text;
}
