import type { Logger } from '../../src/workflow/logger.js';

/** A logger that says nothing (tests that do not look at logs). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Octokit's `log` for tests that expect 4xx answers (its request log reports every one through
 * `log.error`): the test asserts the status, so nothing goes to stderr.
 */
export const silentOctokitLog = { debug() {}, info() {}, warn() {}, error() {} };
