// What the regression tests share: a fuzz context (the committed seeds; the deploy chain when a case needs it) and
// the seeds by name, so that each finding is written down as the case the fuzzer generated and replayed as it is.
import { type CaseReport, type ChainCorpus, type FuzzCase, type FuzzContext, makeContext, runFuzzCase } from '../cases';
import { chainCorpus } from '../chain';
import { bundleSeeds } from '../seeds';

export async function regressionContext(options: { chain?: boolean } = {}): Promise<FuzzContext> {
  const chain: ChainCorpus | undefined = options.chain ? await chainCorpus() : undefined;
  // A slow machine must not make a slow case a hang; the hangs these tests stop took seconds to forever.
  return makeContext({ ...(chain && { chain }), caseBudgetMs: 2_000, targets: ['bundle', 'chain', 'policy', 'argv'] });
}

/** A seed's index in the fuzzer's seed list (a case names its seed by index). */
export function seedIndex(name: string): number {
  const index = bundleSeeds().findIndex((s) => s.name === name);
  if (index < 0) throw new Error(`no bundle seed ${name}`);
  return index;
}

export function replay(context: FuzzContext, fuzzCase: FuzzCase): Promise<CaseReport> {
  return runFuzzCase(context, fuzzCase);
}

export function describeReport(report: CaseReport): string {
  return `${report.notes.join('; ')} -> ${report.result.outcome} ${report.result.code ?? ''} (${report.ms.toFixed(0)} ms) ${report.result.message ?? ''}`;
}
