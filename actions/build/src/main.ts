// The build stage: resolve and hash every subject, then sign SLSA provenance for them with the job's identity.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  provenanceStatement,
  type Subject,
  type SubjectInputs,
  type WorkflowRunClaims,
  workflowProvenance,
  workflowRunClaims,
} from '@twokey/core';
import { idTokenClaims } from '@twokey/github';
import { resolveSubjects, type SigningEndpoints, signStatement } from '@twokey/sigstore';

export interface BuildInputs extends SubjectInputs {
  endpoints: SigningEndpoints;
  /** Where relative subject paths are resolved (GITHUB_WORKSPACE). */
  workspace: string;
  /** Where the bundle is written (RUNNER_TEMP). */
  outputDirectory: string;
  /** GITHUB_SERVER_URL. */
  serverUrl: string;
  /** The job's OIDC identity token, audience `sigstore`. */
  identityToken: () => Promise<string>;
}

export interface BuildResult {
  bundlePath: string;
  subjects: Subject[];
  claims: WorkflowRunClaims;
  /** The certificate identity: `{serverUrl}/{job_workflow_ref}`. */
  signer: string;
  /** The Rekor log index of the signature. */
  logIndex?: string;
}

export async function run(inputs: BuildInputs): Promise<BuildResult> {
  const subjects = await resolveSubjects(inputs, inputs.workspace);
  const token = await inputs.identityToken();
  const claims = workflowRunClaims(idTokenClaims(token));
  const statement = provenanceStatement(subjects, workflowProvenance(claims, inputs.serverUrl));
  const bundle = await signStatement(statement, { endpoints: inputs.endpoints, identityToken: async () => token });

  const text = `${JSON.stringify(bundle)}\n`;
  const directory = join(inputs.outputDirectory, 'twokey');
  const bundlePath = join(
    directory,
    `provenance-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.sigstore.json`,
  );
  mkdirSync(directory, { recursive: true });
  writeFileSync(bundlePath, text);
  return {
    bundlePath,
    subjects,
    claims,
    signer: `${inputs.serverUrl}/${claims.job_workflow_ref}`,
    logIndex: bundle.verificationMaterial.tlogEntries[0]?.logIndex,
  };
}
