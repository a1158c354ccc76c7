// Types of the generated deploy-approval-predicate.validate.js (ajv standalone).
import type { ValidateFunction } from 'ajv/dist/2020.js';

declare const validate: ValidateFunction;

export { validate };
export default validate;
