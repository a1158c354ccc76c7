// What a step tells the runner, as data: its outputs, its error annotations, why it failed (if it did) and its summary.
// Each stage turns its result into a StepOutcome with a pure function, which tests read as plain objects; reportStep
// is the one place that writes an outcome to the runner (@actions/core), so an action's src/ is inputs → stage →
// reportStep.
import { error as annotate, info, setFailed, setOutput, summary, warning } from '@actions/core';
import { describeError, renderSummary, terminalLines, withoutWorkflowCommands } from '@twokey/core';

/** Writes text of others' choosing to the step's log with workflow commands off around it (withoutWorkflowCommands). */
export function logUntrusted(text: string, write: (line: string) => void = info): void {
  write(withoutWorkflowCommands(text));
}

export interface StepOutcome {
  /** The step's outputs, written in this order (the last is written last). */
  outputs: Record<string, string>;
  /** One error annotation each (`::error::`). */
  errors: string[];
  /** Present when the step fails: its one-line reason (`setFailed`). */
  failure?: string;
  /** The step summary, Markdown (renderSummary's). */
  summary: string;
}

/** A stage that threw: nothing was decided; the error (describeError) is the failure and the summary says why. */
export function failedStep(title: string, error: unknown): StepOutcome {
  const message = describeError(error);
  return {
    outputs: {},
    errors: [],
    failure: message,
    summary: renderSummary([{ heading: title }, { preformatted: message }]),
  };
}

/**
 * Writes an outcome to the runner: annotations, the failure, the summary, then the outputs — last, so a caller reading
 * an output knows everything before it was written. A summary that cannot be written is a warning, not a failure:
 * the outputs and the exit code are the step's contract.
 */
/**
 * The step's inputs, read; when one cannot be used (an InputError, naming it), the step fails with that message and
 * runs nothing: undefined.
 */
export function readStepInputs<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    setFailed(describeError(error));
    return undefined;
  }
}

export async function reportStep(outcome: StepOutcome): Promise<void> {
  // Messages that may name files of others' choosing: their own lines kept, control characters escaped (row 190).
  for (const message of outcome.errors) annotate(terminalLines(message));
  if (outcome.failure !== undefined) setFailed(terminalLines(outcome.failure));
  try {
    await summary.addRaw(outcome.summary).write();
  } catch (error) {
    warning(`the step summary could not be written: ${(error as Error).message}`);
  }
  for (const [name, value] of Object.entries(outcome.outputs)) setOutput(name, value);
}
