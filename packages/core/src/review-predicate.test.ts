import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  alice,
  bob,
  carol,
  HEAD,
  honestEvidence,
  MERGE_COMMIT,
  REPOSITORY,
  RULES,
  review,
} from './__fixtures__/review-evidence';
import { InTotoError, parseStatement } from './intoto';
import type { ReviewEvidence } from './model';
import { evaluateReview } from './review';
import {
  buildReviewStatement,
  evidenceFromPredicate,
  parseReviewPredicate,
  REVIEW_PREDICATE_TYPE,
  ReviewAttestationError,
  reviewedCommitOf,
} from './review-predicate';

const ARTIFACT = { name: 'app.tar.gz', digest: { sha256: '1'.repeat(64) } };

function statementFor(evidence: ReviewEvidence = honestEvidence(), serverUrl?: string) {
  return buildReviewStatement({
    subjects: [ARTIFACT],
    evidence,
    rules: RULES,
    result: evaluateReview(evidence, RULES),
    ...(serverUrl && { serverUrl }),
  });
}

/** The field InTotoError names when parseReviewPredicate refuses `json`. */
function refusedField(json: unknown): string {
  try {
    parseReviewPredicate(json);
  } catch (error) {
    if (error instanceof InTotoError && error.code === 'PREDICATE_INVALID') return error.field;
    throw error;
  }
  throw new Error('expected parseReviewPredicate to refuse');
}

function predicateJson(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(statementFor().predicate));
}

describe('buildReviewStatement', () => {
  it('makes an in-toto Statement v1 over the artifacts and the git commit, with our predicate type', () => {
    const statement = statementFor();
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe(REVIEW_PREDICATE_TYPE);
    expect(statement.subject).toEqual([
      ARTIFACT,
      {
        name: `git+https://github.com/acme/app@${MERGE_COMMIT}`,
        uri: 'https://github.com/acme/app',
        digest: { gitCommit: MERGE_COMMIT },
      },
    ]);
    expect(parseStatement(JSON.parse(JSON.stringify(statement)))).toEqual(statement);
    expect(reviewedCommitOf(statement)).toBe(MERGE_COMMIT);
  });

  it('carries the in-toto human-review/vcs fields and what independence is judged on', () => {
    const { predicate } = statementFor();
    expect(predicate.reviewers).toEqual([{ name: 'bob', uri: 'https://api.github.com/user/202' }]);
    expect(predicate.reviewLink).toBe('https://github.com/acme/app/pull/42');
    expect(predicate.reviewTime).toBe('2026-11-20T12:10:00.000Z');
    expect(predicate).toMatchObject({
      repository: { name: REPOSITORY, uri: 'https://github.com/acme/app' },
      commit: MERGE_COMMIT,
      pullRequest: { number: 42, url: 'https://github.com/acme/app/pull/42', title: 'Add the widget endpoint' },
      mergeMethod: 'squash',
      mergedHead: HEAD,
      mergeCommit: MERGE_COMMIT,
      author: alice,
      contributors: [{ name: 'Alice', email: 'alice@acme.example', account: alice, roles: ['author', 'committer'] }],
      rules: RULES,
      verdict: 'pass',
    });
    expect(predicate.reviews).toEqual([
      expect.objectContaining({ reviewer: bob, state: 'APPROVED', commitId: HEAD, submittedAt: expect.any(String) }),
    ]);
    expect(predicate.permissions.bob).toBe('write');
    expect(predicate.checks.map((c) => c.verdict)).not.toContain('fail');
  });

  it('names reviewers by the GitHub Enterprise server API when the pull request lives there', () => {
    const evidence = honestEvidence();
    evidence.pullRequest = { ...evidence.pullRequest!, url: 'https://ghe.acme.example/acme/app/pull/42' };
    const { predicate, subject } = statementFor(evidence);
    expect(predicate.reviewers[0]!.uri).toBe('https://ghe.acme.example/api/v3/user/202');
    expect(subject[1]!.uri).toBe('https://ghe.acme.example/acme/app');
  });

  it('leaves out pending reviews (never submitted, never counted)', () => {
    const pending = { ...review(carol, 'PENDING'), submittedAt: '' };
    const { predicate } = statementFor(honestEvidence({ reviews: [...honestEvidence().reviews, pending] }));
    expect(predicate.reviews.map((r) => r.state)).toEqual(['APPROVED']);
  });

  it('refuses to attest a self-approved change, even when the caller says the review passed', () => {
    const selfApproved = honestEvidence({ reviews: [review(alice, 'APPROVED')] });
    const call = () =>
      buildReviewStatement({
        subjects: [ARTIFACT],
        evidence: selfApproved,
        rules: RULES,
        result: evaluateReview(honestEvidence(), RULES),
      });
    expect(call).toThrow(ReviewAttestationError);
    expect(call).toThrow(expect.objectContaining({ code: 'REVIEW_NOT_PASSED' }));
    expect(call).toThrow(/reviewer-not-author/);
  });

  it('refuses to attest a commit pushed directly', () => {
    const direct = honestEvidence({ pullRequest: undefined, reviews: [] });
    expect(() => statementFor(direct)).toThrow(expect.objectContaining({ code: 'REVIEW_NOT_PASSED' }));
  });

  it('refuses subjects without a sha256 digest', () => {
    const evidence = honestEvidence();
    const result = evaluateReview(evidence, RULES);
    for (const subjects of [[], [{ name: 'a', digest: { sha256: 'ABC' } }]]) {
      expect(() => buildReviewStatement({ subjects, evidence, rules: RULES, result })).toThrow(
        expect.objectContaining({ code: 'SUBJECTS_INVALID' }),
      );
    }
  });
});

describe('parseReviewPredicate and evidenceFromPredicate', () => {
  it('give back the evidence that was attested, so the rules can run on it again', () => {
    const evidence = honestEvidence();
    const predicate = parseReviewPredicate(predicateJson());
    expect(evidenceFromPredicate(predicate)).toEqual(evidence);
    expect(evaluateReview(evidenceFromPredicate(predicate), RULES)).toEqual(evaluateReview(evidence, RULES));
  });

  it('name the field that is missing or wrong', () => {
    const missing = predicateJson();
    delete missing.mergedHead;
    expect(refusedField(missing)).toBe('predicate.mergedHead');

    const wrongId = predicateJson() as { reviews: { reviewer: { id: unknown } }[] };
    wrongId.reviews[0]!.reviewer.id = '202';
    expect(refusedField(wrongId)).toBe('predicate.reviews[0].reviewer.id');

    const badState = predicateJson() as { reviews: { state: string }[] };
    badState.reviews[0]!.state = 'LGTM';
    expect(refusedField(badState)).toBe('predicate.reviews[0].state');

    const shortSha = predicateJson();
    shortSha.commit = 'abc123';
    expect(refusedField(shortSha)).toBe('predicate.commit');

    const badPermission = predicateJson() as { permissions: Record<string, string> };
    badPermission.permissions.bob = 'owner';
    expect(refusedField(badPermission)).toBe('predicate.permissions.bob');

    const badRules = predicateJson() as { rules: Record<string, unknown> };
    badRules.rules.minApprovals = 0;
    expect(refusedField(badRules)).toBe('predicate.rules.minApprovals');

    expect(refusedField('not an object')).toBe('predicate');
  });

  it('ignore unknown fields (in-toto parsing rules) and never carry them into the evidence', () => {
    const json = predicateJson() as Record<string, unknown> & { reviews: Record<string, unknown>[] };
    json.futureField = { anything: true };
    json.reviews[0]!.counted = true;
    (json.reviews[0]!.reviewer as Record<string, unknown>).siteAdmin = true;
    const evidence = evidenceFromPredicate(parseReviewPredicate(json));
    expect(evidence.reviews[0]).toEqual(honestEvidence().reviews[0]);
    expect(evidence).toEqual(honestEvidence());
  });
});

describe('docs/review-predicate.md', () => {
  it('shows an example that parses as a statement with a valid review predicate', () => {
    const doc = readFileSync(new URL('../../../docs/review-predicate.md', import.meta.url), 'utf8');
    const example = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const statement = parseStatement(JSON.parse(example!));
    expect(statement.predicateType).toBe(REVIEW_PREDICATE_TYPE);
    const predicate = parseReviewPredicate(statement.predicate);
    expect(reviewedCommitOf(statement)).toBe(predicate.commit);
    expect(evaluateReview(evidenceFromPredicate(predicate), predicate.rules).verdict).toBe('pass');
  });
});
