// Where a Sigstore instance's services are: what every action takes as inputs, and the two instances' defaults. A
// module of its own (nothing imported): reading an endpoint loads no signing or verification code (an action reads
// these at its start, before its inputs are checked).

/** Where the Sigstore services are. Every action takes these as inputs, so tests point them at loopback. */
export interface SigningEndpoints {
  fulcioURL: string;
  /** The Rekor transparency log; absent on an instance without one (GitHub's), where the timestamp dates the signature. */
  rekorURL?: string;
  /** An RFC 3161 timestamp authority; without it the Rekor entry's integrated time is the only signing time. */
  tsaURL?: string;
}

/** Where to sign, or how to find out when first signing (a job asks GitHub its repository's visibility then). */
export type SigningEndpointsSource = SigningEndpoints | (() => Promise<SigningEndpoints>);

/** The endpoints a source gives. */
export async function resolveSigningEndpoints(source: SigningEndpointsSource): Promise<SigningEndpoints> {
  return typeof source === 'function' ? source() : source;
}

/**
 * GitHub's Sigstore instance, which actions/attest signs private and internal repositories with: no transparency log
 * (a private repository's names and commits stay private), a timestamp authority instead.
 */
export const GITHUB_ENDPOINTS: Readonly<SigningEndpoints> = {
  fulcioURL: 'https://fulcio.githubapp.com',
  tsaURL: 'https://timestamp.githubapp.com/api/v1/timestamp',
};

/** The Sigstore public-good instance (the TSA URL in full, as sigstore-js's signing config gives it). */
export const PUBLIC_GOOD_ENDPOINTS: Readonly<Required<SigningEndpoints>> = {
  fulcioURL: 'https://fulcio.sigstore.dev',
  rekorURL: 'https://rekor.sigstore.dev',
  tsaURL: 'https://timestamp.sigstore.dev/api/v1/timestamp',
};
