// The deploy checks: each a small function of one chain of an artifact's evidence, returning one Check — `pass`,
// `fail` (what it checks does not hold), or `not-evaluated` (what it needs is missing: its reason says what).
// deployChecks is the list, in the order they are reported. Pure.

import {
  type BreakGlassUsed,
  breakGlassProblems,
  breakGlassRunOf,
  type ChangePeople,
  type Check,
  certificateBacksProvenance,
  type DeployApprovalPredicate,
  type DeployCheckId,
  describeIdentityRule,
  type EvidenceUsed,
  formatDigest,
  judgeDeployApproval,
  matchesAnyGlob,
  matchIdentity,
  namesEnvironment,
  type ProvenanceClaim,
  REVIEW_PREDICATE_TYPE,
  SLSA_PROVENANCE_V1_PREDICATE_TYPE,
  sameRepositoryName,
  sameRepositoryUri,
  type VerifiedBundle,
} from '@twokey/core';
import type { ArtifactEvidence, Candidate, Chain, QualifiedBreakGlass, QualifiedProvenance } from './candidates';
import type { BreakGlassUse, DeployContext } from './evaluate';

/** A verified time in the future beyond this is a clock problem or a forgery, never fresh evidence. */
const CLOCK_SKEW_SECONDS = 300;

/** The deploy checks on one chain, with what the artifact's report says beside them. */
export interface ChainJudgement {
  checks: Check[];
  /** THE BREAK-GLASS used in place of the review, when one was. */
  breakGlass?: { used: QualifiedBreakGlass; report: BreakGlassUsed };
  /** Who approved the deploy, when it was read or attested. */
  deployApproval?: { source: string; environment: string; approvers: string[]; bundle?: VerifiedBundle };
}

/** The deploy checks on one chain of an artifact's evidence, in the order they are reported. */
export function deployChecks(chain: Chain, evidence: ArtifactEvidence, context: DeployContext): ChainJudgement {
  const breakGlass = breakGlassFor(chain, evidence, context);
  const used = breakGlass.used;
  const approval = deployApprovalCheck(chain, evidence, context, used);
  return {
    checks: [
      coveredByPolicy(evidence, context),
      artifactSignature(chain, evidence, context, used),
      waived(reviewAttestation(chain, evidence, context), used),
      waived(reviewRules(chain), used),
      buildProvenance(chain, evidence, context),
      sameCommit(chain, used),
      sameRepository(chain, context, used),
      distinctIdentities(chain, context, used),
      fresh(chain, context, used),
      approval.check,
      breakGlass.check,
    ],
    ...(used && { breakGlass: { used, report: breakGlassReport(used) } }),
    ...(approval.facts && { deployApproval: approval.facts }),
  };
}

/** The evidence a chain's extras rest on (the decision record names it): the break-glass and the deploy approval. */
export function extraEvidence(judgement: ChainJudgement): EvidenceUsed[] {
  return evidenceOfRoles([
    ['break-glass', judgement.breakGlass?.used.bundle],
    ['deploy-approval', judgement.deployApproval?.bundle],
  ]);
}

/** Each bundle present, named by its role, its file, its signer and its verified signing times. */
export function evidenceOfRoles(roles: [EvidenceUsed['role'], VerifiedBundle | undefined][]): EvidenceUsed[] {
  return roles.flatMap(([role, bundle]) =>
    bundle
      ? [
          {
            role,
            source: bundle.source,
            signer: { san: bundle.signer.san, issuer: bundle.signer.issuer },
            signedAt: bundle.signedAt.map((d) => d.toISOString()),
          },
        ]
      : [],
  );
}

// ── break-glass ─────────────────────────────────────────────────────────────────────────────────────────────

/** A review check a valid break-glass stands in for: `waived`, its reason saying so in capitals. */
function waived(check: Check, used: QualifiedBreakGlass | undefined): Check {
  if (!used || check.verdict === 'pass') return check;
  return {
    id: check.id,
    verdict: 'waived',
    reason: `WAIVED BY BREAK-GLASS ${used.bundle.source} (${used.predicate.incident}): ${check.reason}`,
  };
}

function breakGlassReport(used: QualifiedBreakGlass): BreakGlassUsed {
  const p = used.predicate;
  const person = (a: { login: string; id: number }) => ({ login: a.login, id: a.id });
  return {
    source: used.bundle.source,
    id: used.id,
    run: breakGlassRunOf(p),
    reason: p.reason,
    incident: p.incident,
    environment: p.environment,
    requester: person(p.requester),
    approvers: p.approvers.map(person),
    // Who made the change it let through: an auditor sees who wrote the unreviewed code, not only who clicked Merge.
    ...(p.change.contributors && {
      change: {
        commit: p.change.commit,
        author: person(p.change.author),
        ...(p.change.pullRequest && { pullRequest: { ...p.change.pullRequest } }),
        contributors: p.change.contributors.map((c) => ({ ...person(c.account), roles: [...c.roles] })),
      },
    }),
    notBefore: p.notBefore,
    expires: p.expires,
    waives: [...p.waives],
  };
}

/**
 * Whether a break-glass stands in for this chain's review: only when the review does not pass on its own, only a
 * break-glass the break-glass identity signed over this artifact, within its window, for this environment, for the
 * commit that was built, approved by people other than its requester and the change's author, and not used before
 * for this artifact and environment. The check says which was used, or why none could be.
 */
function breakGlassFor(
  chain: Chain,
  evidence: ArtifactEvidence,
  context: DeployContext,
): { check: Check; used?: QualifiedBreakGlass } {
  const reviewed = chain.review?.result.checks.every((c) => c.verdict === 'pass');
  const relevant = evidence.breakGlasses.filter((c) => c.relevant);
  if (reviewed) {
    return {
      check: pass(
        'break-glass',
        relevant.length
          ? 'none used: the change was independently reviewed, so no break-glass is needed'
          : 'none used: the change was independently reviewed',
      ),
    };
  }
  if (evidence.breakGlasses.length === 0) return { check: pass('break-glass', 'none presented') };
  const problems: string[] = evidence.breakGlasses.filter((c) => c.qualified === undefined).map((c) => c.reason);
  for (const candidate of evidence.breakGlasses) {
    const used = candidate.qualified;
    if (!used) continue;
    const found = [
      ...breakGlassProblems(used.predicate, context.policy.deploy.breakGlass, {
        now: context.judgedAt,
        trigger: used.bundle.signer.extensions.buildTrigger,
        ...(context.environment !== undefined && { environment: context.environment }),
      }),
      ...breakGlassChainProblems(used, chain),
      ...breakGlassDeployProblems(used, context),
      ...earlierUses(used, evidence, context),
    ];
    if (found.length === 0) {
      const p = used.predicate;
      return {
        used,
        check: pass(
          'break-glass',
          `BREAK-GLASS USED: ${used.bundle.source} by ${used.bundle.signer.san}, requested by ${p.requester.login}, approved by ${p.approvers.map((a) => a.login).join(', ')}, valid ${p.notBefore} to ${p.expires} for ${p.environment}, waives ${p.waives.join(', ')}: ${p.reason} (${p.incident})`,
        ),
      };
    }
    problems.push(`${used.bundle.source}: ${found.join('; ')}`);
  }
  return {
    check: fail('break-glass', `expected a usable break-glass in place of the missing review; ${problems.join('; ')}`),
  };
}

/** A break-glass is for one change: the commit and repository the provenance says were built. */
function breakGlassChainProblems(used: QualifiedBreakGlass, { provenance }: Chain): string[] {
  if (!provenance) return ['there is no build provenance to show which commit it was built from'];
  const problems: string[] = [];
  // The provenance's commit is its signer's word: a break-glass names the built commit only as the build certificate
  // names it (GitHub's token), or a build job could claim the commit a break-glass was approved for.
  const uncertified = certificateProblem(provenance, 'commit');
  if (uncertified) problems.push(`it cannot be matched with the built commit: ${uncertified}`);
  if (used.predicate.change.commit !== provenance.source.commit) {
    problems.push(
      `it is for commit ${used.predicate.change.commit}, but the artifact was built from ${provenance.source.commit}`,
    );
  }
  if (!sameRepositoryUri(used.predicate.repository.uri, provenance.source.repositoryUrl)) {
    problems.push(
      `it is for ${used.predicate.repository.uri}, but the artifact was built in ${provenance.source.repositoryUrl}`,
    );
  }
  // Built on the branch the break-glass ran from (its default branch), as the build certificate names it: the same
  // commit built on a branch of the developer's (its build steps fed by that branch's cache, its workflow her own
  // copy) is other bytes under the commit's name. A break-glass recording no default branch is refused on its own.
  const branch = used.predicate.defaultBranch;
  const unbackedRef = certificateProblem(provenance, 'ref');
  if (unbackedRef) problems.push(`it cannot be matched with the built branch: ${unbackedRef}`);
  else if (branch !== undefined && provenance.source.ref !== `refs/heads/${branch}`) {
    problems.push(
      `it is for a build of refs/heads/${branch} (the default branch its run ran from), but the artifact was built from ${provenance.source.ref}`,
    );
  }
  return problems;
}

/**
 * The deploy gate uses a break-glass only where its single use is recorded and read: by a deploy job running as the
 * policy's deploy identity (the only records later deploys count), in a deploy to the environment it names (a job in
 * no environment would record a use in none), run in the repository it was made for (whose attestation store the gate
 * reads; a deployment repository's store is another).
 */
function breakGlassDeployProblems(used: QualifiedBreakGlass, context: DeployContext): string[] {
  if (!context.deployIdentity) return [];
  const problems: string[] = [];
  // Later deploys count only records the policy's deploy identity signed: a deploy job running as any other (the
  // platform's workflow called at another ref, a self-hosted runner) would record a use nobody counts.
  const deployer = context.policy.identities.deploy;
  const running = deployer && matchIdentity(context.deployIdentity, deployer);
  if (running && !running.ok) {
    problems.push(
      `its single use is recorded only by a deploy running as the policy's deploy identity, whose decision records later deploys count; this deploy job is not it (${running.reason})`,
    );
  }
  if (context.environment === undefined) {
    problems.push(
      `it is for a deploy to ${used.predicate.environment}, and this deploy job runs in no environment (its token names none)`,
    );
  }
  const ran = context.deployIdentity.extensions.sourceRepositoryURI;
  if (ran === undefined || !sameRepositoryUri(ran, used.predicate.repository.uri)) {
    problems.push(
      `it is used only in a deploy run in ${used.predicate.repository.uri}, whose attestation store records and shows its single use; this deploy runs in ${ran ?? 'a repository its certificate does not name'}`,
    );
  }
  return problems;
}

/**
 * Once per environment: one deploy run ships the break-glass's change there, whichever of its subjects (a release of
 * several files) — the unreviewed build may emit any number of byte-different copies, each another artifact. The
 * deploy gate refuses a break-glass an earlier decision record used in this environment by another deploy run, or for
 * this artifact by any (a re-run is another run), and needs to have read them (the attestation store); `twokey verify`
 * refuses one used by more than one deploy run, or for this artifact more than once.
 */
function earlierUses(used: QualifiedBreakGlass, evidence: ArtifactEvidence, context: DeployContext): string[] {
  const hex = evidence.artifact.digest.hex;
  const run = breakGlassRunOf(used.predicate);
  const uses = context.breakGlassUses.filter(
    // A use recorded with no environment (a deploy job in none, before the gate refused one) counts in every one. A
    // use of another break-glass its run signed is a use of this one: one approval released every job of the run.
    (u) =>
      // Environments compared without case, as GitHub names them (row 200): sibling legs spelt `production` and
      // `Production` are one environment, one use.
      (u.id === used.id || u.run === run) &&
      (u.environment === undefined || namesEnvironment([u.environment], used.predicate.environment)),
  );
  const where = used.predicate.environment;
  const once =
    'a break-glass is used once, and once for its whole run (one approval released every job of the run): by one deploy run in its environment, whichever of its subjects that run ships';
  const sources = (list: BreakGlassUse[]) => list.map((u) => u.source).join(', ');
  if (context.deployIdentity) {
    if (!context.earlierDecisionsRead) {
      return [
        "its earlier uses cannot be known: the deploy gate reads earlier decision records from the repository's attestation store (github-token with attestations: read)",
      ];
    }
    // This deploy run may ship several of its subjects (its own jobs' records), never one twice, and no other run may.
    const thisRun = context.deployIdentity.extensions.runInvocationURI;
    const forThis = uses.filter((u) => u.artifacts.includes(hex));
    if (forThis.length > 0) return [`it was already used for this artifact in ${where} (${sources(forThis)}): ${once}`];
    const byOthers = uses.filter((u) => thisRun === undefined || u.deployRun !== thisRun);
    return byOthers.length > 0
      ? [
          `it was already used in ${where} by another deploy run, for another of its subjects (${byOthers.map((u) => `${u.source}, by ${u.deployRun ?? 'a run its record does not name'}`).join('; ')}): ${once}`,
        ]
      : [];
  }
  // Offline, over the store (`twokey verify --repo`): uses it could not read may be there; never judged as none.
  if (context.storeIncomplete !== undefined) {
    return [
      `its earlier uses could not all be read from the attestation store (${context.storeIncomplete}): whether it was used more than once is unknown`,
    ];
  }
  const forThis = uses.filter((u) => u.artifacts.includes(hex));
  if (forThis.length > 1) {
    return [`it was used ${forThis.length} times for this artifact in ${where} (${sources(forThis)}): ${once}`];
  }
  const runs = new Set(uses.map((u) => u.deployRun ?? u.source));
  return runs.size > 1 ? [`it was used in ${where} by ${runs.size} deploy runs (${sources(uses)}): ${once}`] : [];
}

// ── deploy approval ─────────────────────────────────────────────────────────────────────────────────────────

/**
 * The approvals of the deploy's environment against deploy.approvals: the facts the deploy job read from GitHub, or
 * offline the deploy-approval attestation the deploy identity signed. Judged against the change's people (its
 * review attestation; under a break-glass, the author it names).
 */
function deployApprovalCheck(
  chain: Chain,
  evidence: ArtifactEvidence,
  context: DeployContext,
  breakGlass: QualifiedBreakGlass | undefined,
): { check: Check; facts?: ChainJudgement['deployApproval'] } {
  const rules = context.policy.deploy.approvals;
  const live = context.liveDeployApproval;
  type Facts = { predicate: DeployApprovalPredicate; source: string; bundle?: VerifiedBundle };
  // The approvals to judge: the live one, or offline every attested one about this deploy (the first that passes counts).
  let candidates: Facts[] = [];
  if (live && 'error' in live) {
    if (rules.min === 0)
      return { check: pass('deploy-approval', `not required (deploy.approvals.min 0); ${live.error}`) };
    return { check: fail('deploy-approval', `the deploy job could not read who approved it: ${live.error}`) };
  }
  if (live) candidates = [{ predicate: live.predicate, source: 'live' }];
  // The deploy gate judges the approvals of its own run alone: an attested approval is another run's (a staging
  // deploy's, last week's), whatever environment it names. Offline (twokey verify), an attested one is judged.
  else if (!context.deployIdentity) {
    // The deploy workflow is shared by an organisation's repositories: an approval counts only for a deploy run in
    // the repository the artifact was built in, or in the deployment repository identities.deploy pins (as the live
    // gate takes it: requesterUnknown), as its predicate and its certificate both say.
    const { built, pinned, places } = deployPlaces(chain, context);
    const elsewhere: string[] = [];
    const attested = evidence.deployApprovals.filter((c) => {
      if (!c.qualified) return false;
      const ran = c.bundle.signer.extensions.sourceRepositoryURI;
      const named = c.qualified.predicate.repository.uri;
      const ours =
        places.some((place) => sameRepositoryUri(named, place)) && (ran === undefined || sameRepositoryUri(ran, named));
      if (!ours) {
        elsewhere.push(
          `${c.bundle.source} approves a deploy of ${named}, not of ${built ?? 'a repository the provenance names'}${pinned ? ` nor one run in ${pinned}, which identities.deploy pins` : ''}`,
        );
        return false;
      }
      // Judged for one environment (twokey verify --environment): another environment's approval is not this one's.
      const environment = c.qualified.predicate.environment;
      // Without case, as GitHub names environments (row 200) and the live gate compares them.
      if (context.environment !== undefined && !namesEnvironment([environment], context.environment)) {
        elsewhere.push(`${c.bundle.source} approves a deploy to ${environment}, not to ${context.environment}`);
        return false;
      }
      // Given when the deploy was judged, as every other piece of evidence: not after it (`--at`: an approval of a
      // later deploy says nothing of one made then), not older than max-age (an approval of a deploy long before).
      const untimely = approvalTimeProblem(c.bundle, c.qualified.predicate.readAt, context);
      if (untimely) {
        elsewhere.push(`${c.bundle.source} ${untimely}`);
        return false;
      }
      return true;
    });
    // Every one of them: a writer who approved her own deploy of the same artifact (refused, but its approval signed as
    // every decision's is) must not hide an independent one listed after hers.
    candidates = attested.flatMap(({ qualified }) =>
      qualified ? [{ predicate: qualified.predicate, source: qualified.bundle.source, bundle: qualified.bundle }] : [],
    );
    if (candidates.length === 0 && rules.min > 0 && elsewhere.length > 0) {
      return {
        check: notEvaluated(
          'deploy-approval',
          `expected a deploy approval of this artifact's repository${context.environment === undefined ? '' : ` to ${context.environment}`}; ${elsewhere.join('; ')}`,
        ),
      };
    }
  }
  if (candidates.length === 0) {
    if (rules.min === 0) return { check: pass('deploy-approval', 'not required (deploy.approvals.min 0)') };
    if (context.deployIdentity) {
      return {
        check: fail(
          'deploy-approval',
          `expected ${rules.min} approval(s) of the deploy's environment, but the deploy job read none: it must run in an environment, with a github-token that can read its run's approvals (actions: read)`,
        ),
      };
    }
    const reasons = evidence.deployApprovals.filter((c) => c.qualified === undefined).map((c) => c.reason);
    return {
      check: notEvaluated(
        'deploy-approval',
        `expected a deploy-approval attestation by the deploy identity${context.policy.identities.deploy ? ` ${describeIdentityRule(context.policy.identities.deploy)}` : ' (the policy names none: identities.deploy)'} for this artifact, found ${reasons.length ? reasons.join('; ') : 'none'}`,
      ),
    };
  }
  if (rules.min > 0 && context.storeUnread !== undefined) {
    // Another change may have built the same bytes, its review attestation in the store: who wrote what ships is
    // not known, so nobody can be shown independent of it — offline (`twokey verify --repo`) as in the gate.
    return {
      check: fail(
        'deploy-approval',
        `the repository's attestation store could not be read (${context.storeUnread}): whether another change built the same artifact, and who wrote it, is unknown`,
      ),
    };
  }
  const people = artifactPeople(chain, breakGlass, evidence);
  const judgements = candidates.map((facts) => {
    const offRef = requesterUnknown(facts, chain, context);
    return { facts, offRef, judged: offRef ? undefined : judgeDeployApproval(facts.predicate, rules, people) };
  });
  const { facts, offRef, judged } =
    judgements.find((j) => j.judged?.verdict === 'pass') ?? (judgements[0] as (typeof judgements)[number]);
  if (offRef || !judged) {
    const where = facts.source === 'live' ? 'read from the run' : `attested in ${facts.source}`;
    return { check: fail('deploy-approval', `${offRef} (${where})`) };
  }
  const shown = {
    source: facts.source,
    environment: facts.predicate.environment,
    approvers: judged.approvers,
    ...(facts.bundle && { bundle: facts.bundle }),
  };
  const where = facts.source === 'live' ? 'read from the run' : `attested in ${facts.source}`;
  return {
    check:
      judged.verdict === 'pass'
        ? pass('deploy-approval', `${judged.reason} (${where})`)
        : fail('deploy-approval', `${judged.reason} (${where})`),
    facts: shown,
  };
}

/**
 * The repositories a deploy's approvals count from: the artifact's own (the provenance's) and the deployment
 * repository identities.deploy pins; whoever administers any other names its environments' reviewers alone.
 */
function deployPlaces(
  chain: Chain,
  context: DeployContext,
): { built: string | undefined; pinned: string | undefined; places: string[] } {
  const built = chain.provenance?.source.repositoryUrl;
  const pinned = context.policy.identities.deploy?.sourceRepository;
  return { built, pinned, places: [built, pinned].filter((r): r is string => r !== undefined) };
}

/**
 * The events whose starter asked for the run itself: a dispatch (someone pressed "Run workflow" or called the API) and
 * a push (the pusher, or whoever merged into the branch). Any other event's starter is someone the workflow file
 * chose: a `workflow_run` deploy starts when a workflow of that name ran — on any branch, a workflow carol wrote on
 * hers `on: pull_request_review` — and names that run's starter; an `issue_comment` one whoever commented.
 */
const REQUESTED_EVENTS = ['workflow_dispatch', 'push'];

/**
 * Why the deploy's approvals say nothing: a deploy run in a repository neither the artifact's own nor the one
 * identities.deploy pins, whenever an approval is required (deploy.approvals.min) or the requester may not approve —
 * whoever administers it names its environments' reviewers and writes its workflow files alone. And why the deploy's
 * requester cannot be told, when the policy says the requester never approves (distinct-from: requester, or
 * require-prevent-self-review); undefined when it can. Whoever's event starts a run is its requester
 * — GitHub's too, for prevent_self_review — and which events start a run of which job is the workflow file on the
 * run's ref. On any other branch than the default one that file is anyone's with write access: carol's branch carries
 * a caller of the deploy workflow `on: pull_request_review`, she asks dave to review her pull request, his review
 * starts the deploy (dave the requester), and carol, a reviewer of production, approves her own deploy. So the deploy
 * runs from the default branch of the repository it runs in, as GitHub told the deploy job (its deploy approval's
 * `defaultBranch`) — not a branch an org policy names (one this repository lacks, `develop`, or one a glob such as
 * `release/*` matches, is anyone's to create), nor the built repository's (deploys may run in another) — and was
 * started by a dispatch or a push (REQUESTED_EVENTS): the job's token says which live, the approval's certificate
 * (its Source Repository Ref and Build Trigger) offline. What it cannot see: a workflow file pushed to that branch
 * unreviewed (an admin bypassing its protection), and a default branch an admin changed (row 163).
 */
function requesterUnknown(
  facts: { source: string; predicate: DeployApprovalPredicate; bundle?: VerifiedBundle },
  chain: Chain,
  context: DeployContext,
): string | undefined {
  const rules = context.policy.deploy.approvals;
  const requesterExcluded = rules.distinctFrom.includes('requester') || rules.requirePreventSelfReview;
  if (!requesterExcluded && rules.min === 0) return undefined;
  const extensions = facts.source === 'live' ? context.deployIdentity?.extensions : facts.bundle?.signer.extensions;
  // The repository the deploy ran in: the artifact's own, or the one the org policy pins the deploy identity to. Any
  // other (deploy.repositories lets one repository deploy another's artifacts) may be one the developer created
  // herself and administers: its default branch's workflow files are hers alone to write, and its environments'
  // reviewers hers alone to name (a second account of hers, with no access to the org, approves: row 231).
  const ranIn = extensions?.sourceRepositoryURI;
  const { built, pinned, places } = deployPlaces(chain, context);
  if (ranIn === undefined || !places.some((r) => sameRepositoryUri(ranIn, r))) {
    const so = requesterExcluded
      ? "writes its default branch's workflow files alone, so who requested the deploy cannot be told"
      : "names its environments' reviewers alone, so an approval of its run is anyone's that administrator chose (pin the deployment repository: identities.deploy.source-repository)";
    return `the deploy ran in ${ranIn ?? 'a repository it does not name (its Source Repository URI)'}, neither the repository the artifact was built in (${built ?? 'unknown'}) nor ${pinned ? `the one identities.deploy pins (${pinned})` : 'one identities.deploy pins (source-repository: none)'}: whoever administers that repository ${so}`;
  }
  if (!requesterExcluded) return undefined;
  const ref = extensions?.sourceRepositoryRef;
  const trigger = extensions?.buildTrigger;
  const defaultBranch = facts.predicate.defaultBranch;
  const why =
    "anyone with write access writes the workflow file of any other branch, and whoever's event started its run need not have asked for the deploy: who requested it cannot be told";
  if (ref === undefined) return `the deploy run names no ref (its Source Repository Ref): ${why}`;
  if (defaultBranch === undefined) {
    return `the deploy ran from ${ref}, and its deploy approval names no default branch of the repository it ran in (signed before the deploy job recorded it, or GitHub named none), so whether that is the default branch cannot be told: ${why}`;
  }
  if (ref !== `refs/heads/${defaultBranch}`) {
    return `the deploy ran from ${ref}, not from the default branch of the repository it ran in (${defaultBranch}, as GitHub told the deploy job): ${why}`;
  }
  if (trigger === undefined || !REQUESTED_EVENTS.includes(trigger)) {
    return `the deploy run was started by ${trigger === undefined ? 'an event it does not name (its Build Trigger)' : `a ${trigger} event`}, not by ${REQUESTED_EVENTS.join(' or ')}: whoever's event that was (a workflow_run's is whoever started a workflow of that name, on any branch) need not have asked for the deploy, so who requested it cannot be told`;
  }
  return undefined;
}

/**
 * The people of the chain's change, and of every other change the sign and break-glass identities vouched for as
 * making this artifact: two commits can build the same bytes (a reproducible build, a cached one), and whoever wrote
 * what ships is excluded whichever change's evidence is reported. Other changes only add people (fail closed); when the
 * chain's own change names nobody, nobody is known.
 */
function artifactPeople(
  chain: Chain,
  breakGlass: QualifiedBreakGlass | undefined,
  evidence: ArtifactEvidence,
): ChangePeople | undefined {
  const own = changePeople(chain, breakGlass);
  if (!own) return undefined;
  const others = [
    ...evidence.reviews.flatMap((c) =>
      c.qualified && c.qualified !== chain.review ? [changePeople({ review: c.qualified }, undefined)!] : [],
    ),
    ...evidence.breakGlasses.flatMap((c) =>
      c.qualified && c.qualified !== breakGlass ? [changePeople({}, c.qualified)!] : [],
    ),
  ];
  const contributions = [own, ...others].flatMap((p) => (p.contributionsOf ? [p.contributionsOf] : []));
  return {
    ...own,
    otherAuthors: [own, ...others].flatMap((p) => [
      ...(p === own || p.author === undefined ? [] : [p.author]),
      ...(p.otherAuthors ?? []),
    ]),
    contributors: [...own.contributors, ...others.flatMap((p) => p.contributors)],
    pushers: [...own.pushers, ...others.flatMap((p) => p.pushers)],
    codeApprovers: [...own.codeApprovers, ...others.flatMap((p) => p.codeApprovers)],
    // The break-glass used stands in for the review whether or not a review attestation is beside it (one the policy no
    // longer passes: found by the review of the fix, where its approvers were left out then).
    breakGlassApprovers: [
      ...(own.breakGlassApprovers ?? (breakGlass ? breakGlass.predicate.approvers : [])),
      ...others.flatMap((p) => p.breakGlassApprovers ?? []),
    ],
    contributionsOf: (account, profile) => contributions.flatMap((of) => of(account, profile)),
  };
}

/** The people of the change, as its review attestation names them; under a break-glass, the author it names. */
function changePeople({ review }: Chain, breakGlass: QualifiedBreakGlass | undefined): ChangePeople | undefined {
  if (review) {
    const p = review.predicate;
    // Accounts, compared by id as well as login: a rename after the change does not make its author someone else.
    return {
      author: p.author,
      contributors: p.contributors.flatMap((c) => (c.account ? [c.account] : [])),
      pushers: p.lastPush.accounts,
      codeApprovers: review.result.independentApprovers,
      // Everyone else the review rules tie to the change: a co-author by a noreply address or an e-mail, an author
      // known by name, every pusher to the head branch (a contributor to the review rules, threat-model decision 1).
      contributionsOf: review.contributionsOf,
    };
  }
  if (breakGlass) {
    // Everyone the break-glass kept from releasing it — who wrote, committed, co-authored, opened or pushed the change —
    // whichever of author, contributors and pusher the policy names: the head commit's author alone is only whoever
    // clicked Merge, or whatever its writer typed.
    const change = breakGlass.predicate.change;
    const people = [change.author, ...(change.contributors ?? []).map((c) => c.account)];
    // Who released the break-glass stood in for the code review: `code-approvers` keeps them from approving the deploy
    // too (with none, the policy's third person vanished in the very case the rule is for: found by the review of the
    // signed decisions).
    return {
      author: change.author,
      otherAuthors: people,
      contributors: people,
      pushers: people,
      codeApprovers: [],
      breakGlassApprovers: breakGlass.predicate.approvers,
    };
  }
  return undefined;
}

// The policy's deploy.artifacts names the artifact (by its name or base name), or the policy lists none.
function coveredByPolicy({ artifact }: ArtifactEvidence, { policy }: DeployContext): Check {
  const patterns = policy.deploy.artifacts;
  if (!patterns) return pass('covered-by-policy', `${policy.source} covers every artifact (no deploy.artifacts list)`);
  if (artifact.name === undefined) {
    return notEvaluated(
      'covered-by-policy',
      `${formatDigest(artifact.digest)} was given by digest alone: no name to match against deploy.artifacts (${patterns.join(', ')}); name it (NAME=sha256:HEX, or --name)`,
    );
  }
  const hit = [artifact.name, baseName(artifact.name)].map((n) => matchesAnyGlob(n, patterns)).find((p) => p);
  return hit
    ? pass('covered-by-policy', `${artifact.name} matches ${hit} in deploy.artifacts`)
    : fail(
        'covered-by-policy',
        `expected ${artifact.name} to match deploy.artifacts (${patterns.join(', ')}), found no match`,
      );
}

// A signature over the artifact's digest by the policy's sign identity.
function artifactSignature(
  { signature }: Chain,
  evidence: ArtifactEvidence,
  { policy }: DeployContext,
  breakGlass: QualifiedBreakGlass | undefined,
): Check {
  const subject = formatDigest(evidence.artifact.digest);
  if (signature) {
    return pass(
      'artifact-signature',
      `${signature.bundle.source}: a signature over ${subject} by ${signature.bundle.signer.san}`,
    );
  }
  // The sign workflow signs only reviewed changes; under a break-glass, the break-glass identity's signature over
  // the artifact's digest is the signature by a policy identity.
  if (breakGlass) {
    return pass(
      'artifact-signature',
      `BREAK-GLASS: no signature by the sign identity; ${breakGlass.bundle.source} signs ${subject} as the break-glass identity ${breakGlass.bundle.signer.san}`,
    );
  }
  const expected = `a signature over ${subject} by the sign identity ${describeIdentityRule(policy.identities.sign)}`;
  return fail('artifact-signature', missing(expected, evidence.signatures, evidence.unverified));
}

// A review attestation by the policy's sign identity whose subjects include the artifact.
function reviewAttestation({ review }: Chain, evidence: ArtifactEvidence, { policy }: DeployContext): Check {
  const subject = formatDigest(evidence.artifact.digest);
  if (review) {
    return pass(
      'review-attestation',
      `${review.bundle.source}: a review attestation by ${review.bundle.signer.san} for ${subject} and commit ${review.commit}`,
    );
  }
  const expected = `a review attestation (${REVIEW_PREDICATE_TYPE}) by the sign identity ${describeIdentityRule(policy.identities.sign)} whose subjects include ${subject}`;
  return fail('review-attestation', missing(expected, evidence.reviews, unreadable(evidence)));
}

// The attested review passes the policy's review rules again (the policy's rules, not the ones it recorded).
function reviewRules({ review }: Chain): Check {
  if (!review) return notEvaluated('review-rules', 'no review attestation by the sign identity for this artifact');
  const failed = review.result.checks.filter((c) => c.verdict !== 'pass');
  if (failed.length === 0) {
    const approvers = review.result.independentApprovers.map((a) => a.login);
    return pass(
      'review-rules',
      `the attested review satisfies the policy's rules again: independent approval by ${approvers.join(', ')}`,
    );
  }
  return fail(
    'review-rules',
    `the attested review does not satisfy the policy's rules: ${failed.map((c) => `${c.id}: ${c.reason}`).join('; ')}`,
  );
}

// SLSA provenance by the policy's build identity whose subjects include the artifact.
function buildProvenance({ provenance }: Chain, evidence: ArtifactEvidence, { policy }: DeployContext): Check {
  const subject = formatDigest(evidence.artifact.digest);
  if (provenance) {
    return pass(
      'build-provenance',
      `${provenance.bundle.source}: SLSA provenance by ${provenance.bundle.signer.san} for ${subject}, built from ${provenance.source.repositoryUrl}@${provenance.source.commit}`,
    );
  }
  const expected = `SLSA provenance (${SLSA_PROVENANCE_V1_PREDICATE_TYPE}) by the build identity ${describeIdentityRule(policy.identities.build)} whose subjects include ${subject}`;
  return fail('build-provenance', missing(expected, evidence.provenances, unreadable(evidence)));
}

// The review was made for the commit that was built, on the branch it was built on, as the build certificate says.
function sameCommit({ review, provenance }: Chain, breakGlass: QualifiedBreakGlass | undefined): Check {
  if (!review && breakGlass && provenance) {
    // breakGlassFor already required the break-glass's commit to be the built one: the provenance's, backed by the
    // build certificate (breakGlassChainProblems).
    return pass(
      'same-commit',
      `BREAK-GLASS: the break-glass ${breakGlass.bundle.source} and the provenance both name commit ${provenance.source.commit}`,
    );
  }
  if (!review || !provenance) return notEvaluated('same-commit', absent({ review, provenance }));
  const built = provenance.source.commit;
  const ref = provenance.source.ref;
  const uncertifiedCommit = certificateProblem(provenance, 'commit');
  if (uncertifiedCommit) return fail('same-commit', uncertifiedCommit);
  if (review.commit !== built) {
    return fail(
      'same-commit',
      `expected the review attestation to be for the built commit ${built}, found a review of ${review.commit}`,
    );
  }
  const uncertifiedRef = certificateProblem(provenance, 'ref');
  if (uncertifiedRef) return fail('same-commit', uncertifiedRef);
  const reviewed = review.predicate.builtRef;
  if (reviewed === undefined) {
    return fail(
      'same-commit',
      `expected the review attestation (${review.bundle.source}) to record the branch the change was built on (builtRef ${ref}), found none: it was signed under older rules that did not record it`,
    );
  }
  if (reviewed !== ref) {
    return fail(
      'same-commit',
      `expected the review attestation to be for the build on ${ref}, found one for a build on ${reviewed}`,
    );
  }
  return pass('same-commit', `the provenance and the review attestation both name commit ${built} built on ${ref}`);
}

// One repository: the provenance, the build certificate, the review attestation and the sign certificates (when
// they name one) all say where the change was built, and it is a repository the deploy is bound to.
function sameRepository(
  { signature, review, provenance }: Chain,
  { binding }: DeployContext,
  breakGlass: QualifiedBreakGlass | undefined,
): Check {
  if (!review && breakGlass && provenance) return breakGlassRepository(breakGlass, provenance, binding);
  if (!review || !provenance) return notEvaluated('same-repository', absent({ review, provenance }));
  const built = provenance.source.repositoryUrl;
  const uncertified = certificateProblem(provenance, 'repository');
  if (uncertified) return fail('same-repository', uncertified);
  const reviewed = review.predicate.repository.uri;
  if (!sameRepositoryUri(reviewed, built)) {
    return fail(
      'same-repository',
      `expected the review to be in ${built}, where the artifact was built; found ${reviewed}`,
    );
  }
  const signed =
    signerDisagreement('review attestation', review.bundle, provenance) ??
    (signature && signerDisagreement('signature', signature.bundle, provenance));
  if (signed) return fail('same-repository', signed);
  const repository = provenance.source.repository;
  const named = `${signature ? 'provenance, review attestation and signature' : 'provenance and review attestation'} name ${built}`;
  if (!binding.repositories.some((r) => sameRepositoryName(r, repository))) {
    return fail(
      'same-repository',
      `expected a chain of ${boundRepositories(binding)} (bound by ${binding.from}), found a chain of ${repository}: its ${named}`,
    );
  }
  return pass('same-repository', `the ${named}, a repository bound by ${binding.from}`);
}

/** Under a break-glass: the provenance (certificate-backed), the break-glass and its signer name one bound repository. */
function breakGlassRepository(
  breakGlass: QualifiedBreakGlass,
  provenance: QualifiedProvenance,
  binding: DeployContext['binding'],
): Check {
  const uncertified = certificateProblem(provenance, 'repository');
  if (uncertified) return fail('same-repository', uncertified);
  const built = provenance.source.repositoryUrl;
  const ran = breakGlass.bundle.signer.extensions.sourceRepositoryURI;
  if (ran !== undefined && !sameRepositoryUri(ran, built)) {
    return fail(
      'same-repository',
      `expected the break-glass (${breakGlass.bundle.source}) to be made for ${built}, where the artifact was built; its certificate says the break-glass workflow ran in ${ran}`,
    );
  }
  const repository = provenance.source.repository;
  if (!binding.repositories.some((r) => sameRepositoryName(r, repository))) {
    return fail(
      'same-repository',
      `expected a chain of ${boundRepositories(binding)} (bound by ${binding.from}), found a chain of ${repository}`,
    );
  }
  return pass(
    'same-repository',
    `BREAK-GLASS: the provenance and the break-glass name ${built}, a repository bound by ${binding.from}`,
  );
}

// Build, sign and deploy ran under three different identities (under a break-glass, the break-glass identity signs).
function distinctIdentities(
  { signature, review, provenance }: Chain,
  { deployIdentity }: DeployContext,
  breakGlass: QualifiedBreakGlass | undefined,
): Check {
  const build = provenance?.bundle.signer.san;
  const signs = [
    ...new Set(
      [signature?.bundle.signer.san, review?.bundle.signer.san, breakGlass?.bundle.signer.san].filter(
        (s) => s !== undefined,
      ),
    ),
  ];
  if (build === undefined || signs.length === 0) {
    const lacking = build === undefined ? 'no build provenance' : 'no signature or review attestation';
    return notEvaluated('distinct-identities', `${lacking} to compare`);
  }
  if (signs.includes(build)) {
    return fail(
      'distinct-identities',
      `expected build and sign under different identities, found both signed by ${build}`,
    );
  }
  const deployed = deployIdentity && [build, ...signs].find((s) => s === deployIdentity.san);
  if (deployed) {
    return fail(
      'distinct-identities',
      `expected the deploy to run under its own identity, found it runs as ${deployed}`,
    );
  }
  const deployNote = deployIdentity ? `, deploy ${deployIdentity.san}` : ' (no deploy identity: evaluated offline)';
  return pass('distinct-identities', `build ${build}, sign ${signs.join(' and ')}${deployNote}: all different`);
}

/**
 * Why an attested deploy approval was not given for a deploy at the time judged (its oldest verified signing time
 * after it, or more than max-age before it), or undefined.
 */
/**
 * The deploy job signs the approvals it read after its decision (the attestation names the evidence the decision
 * rested on), so as of the decision's own time (`twokey verify --at` the record's timeVerified) its approval is signed
 * seconds later. It counts then when the deploy identity says it read the approvals by the time judged and its signing
 * time is at most this much after it: a deploy job at work at that time, not a later deploy's approval.
 */
const APPROVAL_SIGNED_AFTER_READ_SECONDS = 300;

function approvalTimeProblem(
  bundle: VerifiedBundle,
  readAt: string,
  { policy, judgedAt, judgedAsOf }: DeployContext,
): string | undefined {
  if (bundle.signedAt.length === 0) return 'has no verified signing time';
  const oldest = Math.min(...bundle.signedAt.map((d) => d.getTime()));
  const age = (judgedAt.getTime() - oldest) / 1000;
  const at = new Date(oldest).toISOString();
  if (Number.isNaN(age)) return 'has no valid signing time to compare';
  const readBy = Date.parse(readAt) <= judgedAt.getTime() && age >= -APPROVAL_SIGNED_AFTER_READ_SECONDS;
  if (age < -(judgedAsOf ? 0 : CLOCK_SKEW_SECONDS) && !(judgedAsOf && readBy)) {
    return `was signed at ${at}, after the time judged (${judgedAt.toISOString()}): it approves a later deploy`;
  }
  if (age > policy.deploy.maxAgeSeconds) {
    return `was signed at ${at}, ${duration(age)} before the time judged, older than max-age ${duration(policy.deploy.maxAgeSeconds)}`;
  }
  return undefined;
}

// Every piece of evidence was signed, by its verified time, within max-age of the time the deploy is judged at.
function fresh(
  { signature, review, provenance }: Chain,
  { policy, judgedAt, judgedAsOf }: DeployContext,
  breakGlass: QualifiedBreakGlass | undefined,
): Check {
  const pieces: [string, VerifiedBundle | undefined][] = [
    ['signature', signature?.bundle],
    ['review attestation', review?.bundle],
    ['provenance', provenance?.bundle],
    ['break-glass', breakGlass?.bundle],
  ];
  const present = pieces.filter((p): p is [string, VerifiedBundle] => p[1] !== undefined);
  if (present.length === 0) return notEvaluated('fresh', 'no evidence to date');
  const maxAge = policy.deploy.maxAgeSeconds;
  const now = judgedAt.getTime();
  const problems: string[] = [];
  const ages: string[] = [];
  for (const [what, bundle] of present) {
    if (bundle.signedAt.length === 0) {
      problems.push(`the ${what} (${bundle.source}) has no verified signing time`);
      continue;
    }
    const oldest = Math.min(...bundle.signedAt.map((d) => d.getTime()));
    const age = (now - oldest) / 1000;
    const at = new Date(oldest).toISOString();
    if (Number.isNaN(age)) problems.push(`the ${what} (${bundle.source}) has no valid signing time to compare`);
    // The runner's clock may be a little behind a timestamp authority's; a time to judge as of (`--at`) is exact.
    else if (age < -(judgedAsOf ? 0 : CLOCK_SKEW_SECONDS)) {
      problems.push(`the ${what} (${bundle.source}) was signed in the future, at ${at}`);
    } else if (age > maxAge) {
      problems.push(
        `the ${what} (${bundle.source}) was signed at ${at}, ${duration(age)} ago, older than max-age ${duration(maxAge)}`,
      );
    } else ages.push(`${what} ${duration(Math.max(age, 0))} old`);
  }
  return problems.length
    ? fail('fresh', problems.join('; '))
    : pass('fresh', `${ages.join(', ')} (max-age ${duration(maxAge)})`);
}

// ── what the checks share ───────────────────────────────────────────────────────────────────────────────────

/** Whether the build certificate backs the provenance's claim (one rule with the sign stage's). */
function certificateProblem(provenance: QualifiedProvenance, claim: ProvenanceClaim): string | undefined {
  return certificateBacksProvenance(provenance.bundle.signer, provenance.source).find((p) => p.claim === claim)?.reason;
}

/** The repositories a binding names, in words: `acme/app`, `one of acme/app, acme/lib`, or `no repository`. */
function boundRepositories({ repositories }: DeployContext['binding']): string {
  if (repositories.length === 0) return 'no repository';
  return repositories.length === 1 ? repositories[0]! : `one of ${repositories.join(', ')}`;
}

/** Why a sign certificate names another repository than the artifact's build (none: it agrees, or names none). */
function signerDisagreement(
  what: 'signature' | 'review attestation',
  bundle: VerifiedBundle,
  provenance: QualifiedProvenance,
): string | undefined {
  const ran = bundle.signer.extensions.sourceRepositoryURI;
  if (ran === undefined || sameRepositoryUri(ran, provenance.source.repositoryUrl)) return undefined;
  return `expected the ${what} (${bundle.source}) to be made for ${provenance.source.repositoryUrl}, where the artifact was built; its certificate says the sign workflow ran in ${ran}`;
}

/** "expected X, found …": what the candidates were, the ones about this artifact first, at most five. */
function missing(expected: string, candidates: Candidate<unknown>[], problems: string[]): string {
  const relevant = candidates.filter((c) => c.relevant && !c.qualified).map((c) => c.reason);
  const others = candidates.filter((c) => !c.relevant && !c.qualified).map((c) => c.reason);
  const found = [...relevant, ...(relevant.length ? [] : others), ...problems];
  if (found.length === 0) return `expected ${expected}, found none`;
  const shown = found.slice(0, 5).join('; ');
  return `expected ${expected}; ${shown}${found.length > 5 ? `; and ${found.length - 5} more` : ''}`;
}

/** What could not be read as a statement, and what did not verify: the reasons a statement may be missing. */
function unreadable(evidence: ArtifactEvidence): string[] {
  return [...evidence.unreadable, ...evidence.unverified];
}

function absent({ review, provenance }: Chain): string {
  if (!review && !provenance) return 'no review attestation and no build provenance to compare';
  return review
    ? 'no build provenance to compare the review attestation with'
    : 'no review attestation to compare the provenance with';
}

/** The last segment of a slash- or backslash-separated name. */
function baseName(name: string): string {
  return name.replaceAll('\\', '/').split('/').pop() || name;
}

/** `12d 3h`, `45m`, `30s`: an age or a max-age in the units the policy uses. */
function duration(seconds: number): string {
  const s = Math.round(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [d && `${d}d`, h && `${h}h`, m && `${m}m`].filter(Boolean);
  return parts.length ? parts.slice(0, 2).join(' ') : `${s % 60}s`;
}

function pass(id: DeployCheckId, reason: string): Check {
  return { id, verdict: 'pass', reason };
}

function fail(id: DeployCheckId, reason: string): Check {
  return { id, verdict: 'fail', reason };
}

function notEvaluated(id: DeployCheckId, reason: string): Check {
  return { id, verdict: 'not-evaluated', reason };
}
