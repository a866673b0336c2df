import type { ApplicationFunction } from 'probot';
import { createApp } from './app.js';
import { loadTemplates } from './text/templates.js';

/** The Probot entry (`probot run ./dist/src/index.js`). */
const app: ApplicationFunction = (probot, options) => {
  const botLogin = process.env.APP_SLUG ? `${process.env.APP_SLUG}[bot]` : null;
  createApp({ templates: loadTemplates(), botLogin })(probot);
  void options;
};

export default app;
