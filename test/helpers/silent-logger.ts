import type { Logger } from '../../src/workflow/logger.js';

/** A logger that says nothing (tests that do not look at logs). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
