// sigstore/protobuf-specs' example bundle.
import { describeSuite } from './suite-runner';

describeSuite('sigstore-protobuf-specs', { cases: 1, refusals: {} });
