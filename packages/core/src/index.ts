export * from './intoto';
export * from './model';
export * from './provenance';
export * from './slsa-provenance';
export * from './subjects';
