export { fileStorage, readBootstrap } from './storage.js';
