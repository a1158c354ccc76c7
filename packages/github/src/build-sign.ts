// The build stage once its subjects are resolved (build-stage.ts): the job's identity from its OIDC token, the SLSA
// provenance of the subjects signed as that identity and written to the evidence directory (and stored, when asked).
// A module of its own, which runBuildStage imports (through later-steps.ts) when it gets here: what signing needs
// (@sigstore/core and the curves, the token's claims) is not read at the start of a step whose subjects are unusable.
import { provenanceStatement, type Subject, workflowProvenance, workflowRunClaims } from '@twokey/core';
import { resolveSigningEndpoints, signStatement } from '@twokey/sigstore';
import { storeAttestations } from './attestations';
import type { BuildStageInputs, BuildStageResult } from './build-stage';
import { contentName, writeEvidence } from './evidence-directory';
import { idTokenClaims, jobIdentity } from './job-identity';

/** Signs the provenance of `subjects` (resolved from `inputs`) as this job, writes it, and stores it when asked. */
export async function signProvenance(inputs: BuildStageInputs, subjects: Subject[]): Promise<BuildStageResult> {
  const token = await inputs.identityToken();
  const claims = workflowRunClaims(idTokenClaims(token));
  const signer = jobIdentity(token, inputs.serverUrl);
  const statement = provenanceStatement(subjects, workflowProvenance(claims, inputs.serverUrl));
  const bundle = await signStatement(statement, {
    endpoints: await resolveSigningEndpoints(inputs.endpoints),
    identityToken: async () => token,
  });
  const text = `${JSON.stringify(bundle)}\n`;
  const [bundlePath] = writeEvidence(inputs.outputDirectory, [
    { name: contentName('provenance', text, '.sigstore.json'), text },
  ]);
  const logIndex = bundle.verificationMaterial.tlogEntries[0]?.logIndex;
  const [stored] = inputs.store ? await storeAttestations(inputs.store, [bundle]) : [];
  return {
    bundlePath: bundlePath!,
    subjects,
    claims,
    signer,
    ...(logIndex !== undefined && { logIndex }),
    ...(stored && { stored }),
  };
}
