export { createClient, RampartClient, TOKEN_REFUSED, type ClientEvents, type ClientOptions, type ClientState, type ClientStatus, type ConfigStorage, type FlagResult } from './client.js';
export { parseConfig, type SdkConfig } from './config.js';
export type { Aggregate, ReporterStats } from './reporter.js';
