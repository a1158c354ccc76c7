import { CodedError } from '@twokey/core';

export type DeployInputErrorCode = 'ARTIFACT_NAME_EMPTY' | 'ARTIFACT_ARGUMENT_AMBIGUOUS';

/** An input of the deploy gate that cannot be used (exit 2 / a failed step), naming the value. */
export class DeployInputError extends CodedError<DeployInputErrorCode> {
  readonly kind = 'usage';
  override readonly name = 'DeployInputError';
}

/** A report that does not follow report.schema.json: a bug in twokey (exit 3), never written and never a verdict. */
export class ReportContractError extends CodedError<'REPORT_OFF_SCHEMA'> {
  readonly kind = 'internal';
  override readonly name = 'ReportContractError';

  constructor(problems: readonly string[]) {
    super(
      'REPORT_OFF_SCHEMA',
      `the deploy report does not follow report.schema.json: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`,
    );
  }
}
