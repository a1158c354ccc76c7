// The policy file (.twokey/policy.yml): parsed from YAML, validated against policy.schema.json with ajv, then
// turned into the typed Policy every decision reads. Anything unknown, mistyped or ambiguous is an error that names
// the file and the key, because a policy that silently means less than it says is how a gate gets bypassed.

import { createHash } from 'node:crypto';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import type { IdentityRule, ReviewRules, SignerIdentity } from './model';
import policySchema from './policy.schema.json' with { type: 'json' };
import validatePolicy from './validators/policy.validate.js';

/** The policy, typed and with every default applied. */
export interface Policy {
  /** Where it was read from (a path), for messages and reports. */
  source: string;
  /** sha256 (hex) of the file's text, recorded in reports and decision records. */
  digest: string;
  version: 1;
  identities: { build: IdentityRule; sign: IdentityRule };
  review: ReviewRules;
  deploy: {
    /** Oldest acceptable evidence, in seconds, from its verified signing time. */
    maxAgeSeconds: number;
    /** `public-good` or a path to a trusted_root.json, as written in the file. */
    trustedRoot?: string;
    /** Names or globs of the artifacts the policy covers, as written in the file. */
    artifacts?: string[];
    /** The repositories (`owner/name`) whose chains this policy deploys; absent: the caller binds one. */
    repositories?: string[];
  };
}

/** Error codes of parsePolicy: the text is not YAML, or it is YAML that is not a valid policy. */
export type PolicyErrorCode = 'POLICY_SYNTAX' | 'POLICY_INVALID';

/** One thing wrong with a policy: the key path (`identities.build.san`), what is wrong, and the line when known. */
export interface PolicyProblem {
  path: string;
  message: string;
  line?: number;
}

/** A policy that cannot be used. `message` names the file, each key and what is wrong with it, one per line. */
export class PolicyError extends Error {
  constructor(
    readonly code: PolicyErrorCode,
    readonly source: string,
    readonly problems: PolicyProblem[],
  ) {
    super(problems.map((p) => `${source}: ${p.path}: ${p.message}${p.line ? ` (line ${p.line})` : ''}`).join('\n'));
    this.name = 'PolicyError';
  }
}

/** The JSON Schema the policy file is validated against (draft 2020-12). */
export const POLICY_SCHEMA = policySchema;

/** Default review rules (issue 4): one independent approval, on the merged head, no bots, changes requested blocks. */
export const DEFAULT_REVIEW_RULES: ReviewRules = {
  minApprovals: 1,
  allowBots: false,
  requireApprovalOnHead: true,
  changesRequestedBlocks: true,
  unidentifiedCoAuthors: 'refuse',
  nonHumanCoAuthors: [],
  allowActivityFallback: false,
};

/** Default `deploy.max-age`: 30 days. */
export const DEFAULT_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

interface PolicyDocument {
  version: 1;
  identities: { build: IdentityDocument; sign: IdentityDocument };
  review?: {
    'min-approvals'?: number;
    'allow-bots'?: boolean;
    'require-approval-on-head'?: boolean;
    'changes-requested-blocks'?: boolean;
    'protected-branches'?: string[];
    'unidentified-co-authors'?: 'refuse' | 'allow';
    'non-human-co-authors'?: string[];
    'allow-activity-fallback'?: boolean;
  };
  deploy?: {
    'max-age'?: number | string;
    'trusted-root'?: string;
    artifacts?: string[];
    repositories?: string[];
  };
}

interface IdentityDocument {
  issuer: string;
  san?: string;
  'san-pattern'?: string;
  'source-repository'?: string;
}

/** Parses and validates a policy file's text; `source` (the path) is used in every message. Throws PolicyError. */
export function parsePolicy(text: string, source: string): Policy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      'POLICY_SYNTAX',
      source,
      doc.errors.map((e) => ({
        path: '(yaml)',
        message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
        line: e.linePos?.[0]?.line,
      })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch (error) {
    throw new PolicyError('POLICY_SYNTAX', source, [{ path: '(yaml)', message: String((error as Error).message) }]);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new PolicyError('POLICY_INVALID', source, [
      {
        path: '(root)',
        message: `expected a mapping of keys (version, identities, review, deploy), found ${kindOf(data)}`,
      },
    ]);
  }

  const validate = policyValidator();
  if (!validate(data)) {
    const problems = schemaProblems(validate.errors ?? [], data).map((p) => ({
      ...p,
      line: lineOf(doc.contents, p.path, lines),
    }));
    throw new PolicyError('POLICY_INVALID', source, problems);
  }
  const document = data as PolicyDocument;

  const problems: PolicyProblem[] = [];
  const build = identityRule(document.identities.build, 'identities.build', problems);
  const sign = identityRule(document.identities.sign, 'identities.sign', problems);
  if (problems.length === 0) problems.push(...overlappingIdentities(build, sign));
  if (problems.length > 0) {
    throw new PolicyError(
      'POLICY_INVALID',
      source,
      problems.map((p) => ({ ...p, line: lineOf(doc.contents, p.path, lines) })),
    );
  }

  const review = document.review ?? {};
  const deploy = document.deploy ?? {};
  return {
    source,
    digest: createHash('sha256').update(text, 'utf8').digest('hex'),
    version: 1,
    identities: { build, sign },
    review: {
      minApprovals: review['min-approvals'] ?? DEFAULT_REVIEW_RULES.minApprovals,
      allowBots: review['allow-bots'] ?? DEFAULT_REVIEW_RULES.allowBots,
      requireApprovalOnHead: review['require-approval-on-head'] ?? DEFAULT_REVIEW_RULES.requireApprovalOnHead,
      changesRequestedBlocks: review['changes-requested-blocks'] ?? DEFAULT_REVIEW_RULES.changesRequestedBlocks,
      ...(review['protected-branches'] !== undefined && { protectedBranches: review['protected-branches'] }),
      unidentifiedCoAuthors: review['unidentified-co-authors'] ?? DEFAULT_REVIEW_RULES.unidentifiedCoAuthors,
      nonHumanCoAuthors: (review['non-human-co-authors'] ?? []).map((email) => email.toLowerCase()),
      allowActivityFallback: review['allow-activity-fallback'] ?? DEFAULT_REVIEW_RULES.allowActivityFallback,
    },
    deploy: {
      maxAgeSeconds: deploy['max-age'] === undefined ? DEFAULT_MAX_AGE_SECONDS : parseDuration(deploy['max-age']),
      ...(deploy['trusted-root'] !== undefined && { trustedRoot: deploy['trusted-root'] }),
      ...(deploy.artifacts !== undefined && { artifacts: deploy.artifacts }),
      ...(deploy.repositories !== undefined && { repositories: deploy.repositories }),
    },
  };
}

/** Seconds in a duration: an integer (seconds) or `<n>[smhd]` (`30d`, `12h`, `90m`, `45s`, `3600`). */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') return value;
  const match = /^([1-9][0-9]{0,9})([smhd]?)$/.exec(value);
  if (!match) throw new RangeError(`expected a duration such as 30d, 12h, 90m or a number of seconds, found ${value}`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** Whether a signer is the identity a rule names: exact issuer, and exact SAN or the whole SAN matching the pattern. */
export function matchIdentity(signer: SignerIdentity, rule: IdentityRule): { ok: boolean; reason: string } {
  const expected = rule.san ?? `a SAN matching ${describeIdentityRule(rule)}`;
  const found = signer.san || '(no SAN)';
  if (rule.san !== undefined) {
    if (signer.san !== rule.san) return { ok: false, reason: `expected ${expected}, found ${found}` };
  } else if (rule.sanPattern !== undefined) {
    let pattern: RegExp;
    try {
      pattern = anchoredPattern(rule.sanPattern);
    } catch (error) {
      return { ok: false, reason: `the SAN pattern ${rule.sanPattern} is not a valid regular expression: ${error}` };
    }
    if (!pattern.test(signer.san)) return { ok: false, reason: `expected ${expected}, found ${found}` };
  } else {
    return { ok: false, reason: 'the identity rule names neither a SAN nor a SAN pattern' };
  }
  if (signer.issuer !== rule.issuer) {
    return {
      ok: false,
      reason: `expected issuer ${rule.issuer}, found ${signer.issuer || '(no issuer)'} (SAN ${found})`,
    };
  }
  if (rule.sourceRepository !== undefined && signer.extensions.sourceRepositoryURI !== rule.sourceRepository) {
    const repository = signer.extensions.sourceRepositoryURI ?? '(none in the certificate)';
    return {
      ok: false,
      reason: `expected a run of ${rule.sourceRepository}, found source repository ${repository} (SAN ${found})`,
    };
  }
  return { ok: true, reason: `${found} (issuer ${signer.issuer}) matches ${expected}` };
}

/** How a rule reads in messages: the exact SAN, or `^(?:pattern)$`. */
export function describeIdentityRule(rule: IdentityRule): string {
  if (rule.san !== undefined) return rule.san;
  if (rule.sanPattern !== undefined) return `^(?:${rule.sanPattern})$`;
  return '(no SAN)';
}

/** A SAN pattern anchored at both ends, so a prefix or a suffix never matches. */
function anchoredPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** Compiled ahead of time from policy.schema.json (ajv standalone, validators/): nothing is compiled at start. */
function policyValidator(): ValidateFunction {
  return validatePolicy;
}

function identityRule(document: IdentityDocument, path: string, problems: PolicyProblem[]): IdentityRule {
  if (document['san-pattern'] !== undefined) {
    try {
      anchoredPattern(document['san-pattern']);
    } catch (error) {
      problems.push({
        path: `${path}.san-pattern`,
        message: `not a valid regular expression: ${(error as Error).message}`,
      });
    }
    return withSourceRepository({ issuer: document.issuer, sanPattern: document['san-pattern'] }, document);
  }
  return withSourceRepository({ issuer: document.issuer, san: document.san }, document);
}

function withSourceRepository(rule: IdentityRule, document: IdentityDocument): IdentityRule {
  const sourceRepository = document['source-repository'];
  return sourceRepository === undefined ? rule : { ...rule, sourceRepository };
}

/** Build and sign must be different workflow files: a policy that lets one identity pass as both is refused. */
function overlappingIdentities(build: IdentityRule, sign: IdentityRule): PolicyProblem[] {
  const why = 'build and sign must be different identities (different workflow files)';
  if (build.san !== undefined && build.san === sign.san) {
    return [{ path: 'identities.sign.san', message: `is the same as identities.build.san; ${why}` }];
  }
  if (build.sanPattern !== undefined && build.sanPattern === sign.sanPattern) {
    return [{ path: 'identities.sign.san-pattern', message: `is the same as identities.build.san-pattern; ${why}` }];
  }
  if (build.san !== undefined && sign.sanPattern !== undefined && anchoredPattern(sign.sanPattern).test(build.san)) {
    return [{ path: 'identities.sign.san-pattern', message: `matches identities.build.san (${build.san}); ${why}` }];
  }
  if (sign.san !== undefined && build.sanPattern !== undefined && anchoredPattern(build.sanPattern).test(sign.san)) {
    return [{ path: 'identities.build.san-pattern', message: `matches identities.sign.san (${sign.san}); ${why}` }];
  }
  return [];
}

/** Ajv's errors in the words of the policy file: the key path and what was expected versus found. */
function schemaProblems(errors: ErrorObject[], data: unknown): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    const key = `${path}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    problems.push({ path, message });
  };
  for (const error of errors) {
    // The branches of the san/san-pattern choice report `required`; the oneOf error itself says it better.
    if (error.schemaPath.includes('/oneOf/')) continue;
    const path = keyPath(error.instancePath);
    const found = valueAt(data, error.instancePath);
    if (path === 'deploy.max-age') {
      add(path, `expected a duration such as 30d, 12h, 90m or a number of seconds, found ${show(found)}`);
      continue;
    }
    switch (error.keyword) {
      case 'additionalProperties': {
        const key = String(error.params.additionalProperty);
        const known = Object.keys((error.parentSchema as { properties?: object }).properties ?? {});
        add(join(path, key), `unknown key (expected one of: ${known.join(', ')})`);
        break;
      }
      case 'required':
        add(join(path, String(error.params.missingProperty)), 'required key is missing');
        break;
      case 'oneOf':
        add(
          path,
          Array.isArray(error.params.passingSchemas)
            ? 'give exactly one of san and san-pattern, found both'
            : 'give san (exact) or san-pattern (anchored regular expression), found neither',
        );
        break;
      case 'type':
        add(path, `expected ${[error.params.type].flat().join(' or ')}, found ${kindOf(found)}`);
        break;
      case 'const':
        add(path, `expected ${JSON.stringify(error.params.allowedValue)}, found ${show(found)}`);
        break;
      case 'minimum':
        add(path, `expected at least ${error.params.limit}, found ${show(found)}`);
        break;
      case 'minLength':
        add(path, 'expected a non-empty string');
        break;
      case 'minItems':
        add(path, `expected at least ${error.params.limit} entry`);
        break;
      case 'enum':
        add(
          path,
          `expected one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, found ${show(found)}`,
        );
        break;
      case 'pattern':
        add(path, patternMessage(path, found));
        break;
      default:
        add(path, error.message ?? 'invalid');
    }
  }
  return problems;
}

function patternMessage(path: string, found: unknown): string {
  if (path.endsWith('.issuer') || path.endsWith('.source-repository'))
    return `expected an https:// URL, found ${show(found)}`;
  if (/^deploy\.repositories\.\d+$/.test(path)) return `expected owner/name, found ${show(found)}`;
  if (/^review\.protected-branches\.\d+$/.test(path)) {
    return `expected a branch name or glob without refs/heads/ (e.g. main, release/*), found ${show(found)}`;
  }
  if (/^review\.non-human-co-authors\.\d+$/.test(path)) return `expected an e-mail address, found ${show(found)}`;
  return `invalid value ${show(found)}`;
}

/** `/identities/build` → `identities.build`; JSON Pointer escapes undone. */
function keyPath(pointer: string): string {
  if (pointer === '') return '(root)';
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .join('.');
}

function join(path: string, key: string): string {
  return path === '(root)' ? key : `${path}.${key}`;
}

function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
  }
  return node;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** The line of a key in the YAML (the key itself when present, else its closest parent). */
function lineOf(root: unknown, path: string, lines: LineCounter): number | undefined {
  let node = root as Node | null | undefined;
  let offset = node?.range?.[0];
  if (path.startsWith('(')) return offset === undefined ? undefined : lines.linePos(offset).line;
  for (const key of path.split('.')) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (!pair) break;
    offset = (pair.key as Node).range?.[0] ?? offset;
    node = pair.value as Node | null;
  }
  return offset === undefined ? undefined : lines.linePos(offset).line;
}
