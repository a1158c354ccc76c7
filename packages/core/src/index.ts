export * from './intoto';
export * from './model';
export * from './slsa-provenance';
