export { buildApp, type AppDeps, type Services } from './app.js';
export { loadConfig, type Config } from './config.js';
export { openDatabase } from './db/open.js';
export { migrate } from './db/migrate.js';
export type { Database } from './db/database.js';
export { ERROR_CATALOG, AppError, type ErrorCode } from './errors.js';
