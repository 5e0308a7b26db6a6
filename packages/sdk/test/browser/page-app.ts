// The browser application of browser.test.ts: what a web app imports from the published
// package (`@rampart/sdk`, resolved through its package.json with the `browser` condition, as a
// bundler resolves it), bundled by Vite and put on `window` for the test to drive.
import { OpenFeature } from '@openfeature/web-sdk';
import { createClient } from '@rampart/sdk';
import { RampartProvider } from '@rampart/sdk/openfeature/web';

declare global {
  interface Window {
    rampart: { createClient: typeof createClient; RampartProvider: typeof RampartProvider; OpenFeature: typeof OpenFeature };
  }
}

window.rampart = { createClient, RampartProvider, OpenFeature };
